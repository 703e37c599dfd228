/* SPDX-License-Identifier: MIT */
/*
 * All libconfig code lives here (see config.h). Parsing fills plain structs
 * from defaults; validation checks every setting, type and range and every
 * cross-setting rule, collecting errors with file and line.
 */
#include <errno.h>
#include <libconfig.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "macro.h"

#define DEFAULT_REPORT_DIR "/var/lib/wsbench/reports"

/* ---- errors ------------------------------------------------------------ */

void config_errors_clear(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->lines[i]);
	free(e->lines);
	for (size_t i = 0; i < e->n_warnings; i++)
		free(e->warnings[i]);
	free(e->warnings);
	*e = (struct config_errors){ 0 };
}

char *config_errors_join(const struct config_errors *e)
{
	size_t len = 1;
	char *s, *p;

	if (!e->n)
		return NULL;
	for (size_t i = 0; i < e->n; i++)
		len += strlen(e->lines[i]) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < e->n; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", e->lines[i]);
	return s;
}

struct parse_ctx {
	const char *path;
	struct config_errors *errors;
};

static void add_line(char ***lines, size_t *n, const char *path, int line, const char *setting,
                     const char *msg)
{
	char *full, **grown;

	if (asprintf(&full, "%s:%d: %s: %s", path, line, setting, msg) < 0)
		return;
	grown = realloc(*lines, (*n + 1) * sizeof(*grown));
	if (!grown) {
		free(full);
		return;
	}
	*lines = grown;
	grown[(*n)++] = full;
}

_printf_(4, 5) static void add_error(struct parse_ctx *ctx, int line, const char *setting,
                                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_line(&ctx->errors->lines, &ctx->errors->n, ctx->path, line, setting, msg);
}

_printf_(4, 5) static void add_warning(struct parse_ctx *ctx, int line, const char *setting,
                                       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_line(&ctx->errors->warnings, &ctx->errors->n_warnings, ctx->path, line, setting, msg);
}

/* ---- generic setting readers ------------------------------------------- */

static bool is_number(const config_setting_t *v)
{
	int t = config_setting_type(v);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static double number_of(const config_setting_t *v)
{
	switch (config_setting_type(v)) {
	case CONFIG_TYPE_INT:
		return config_setting_get_int(v);
	case CONFIG_TYPE_INT64:
		return (double)config_setting_get_int64(v);
	default:
		return config_setting_get_float(v);
	}
}

static void describe_value(const config_setting_t *v, char *buf, size_t len)
{
	switch (config_setting_type(v)) {
	case CONFIG_TYPE_STRING:
		snprintf(buf, len, "\"%s\"", config_setting_get_string(v));
		break;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, len, "%s", config_setting_get_bool(v) ? "true" : "false");
		break;
	case CONFIG_TYPE_GROUP:
		snprintf(buf, len, "a group");
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		snprintf(buf, len, "a list");
		break;
	default:
		snprintf(buf, len, "%.15g", number_of(v));
	}
}

static int read_uint(struct parse_ctx *ctx, const config_setting_t *v, const char *where,
                     unsigned min, unsigned max, unsigned *ret)
{
	char got[128];
	double d;

	describe_value(v, got, sizeof(got));
	if (config_setting_type(v) != CONFIG_TYPE_INT &&
	    config_setting_type(v) != CONFIG_TYPE_INT64) {
		add_error(ctx, config_setting_source_line(v), where,
		          "must be a whole number, got %s", got);
		return -EINVAL;
	}
	d = number_of(v);
	if (d < min || d > max) {
		add_error(ctx, config_setting_source_line(v), where, "must be %u..%u, got %s", min,
		          max, got);
		return -EINVAL;
	}
	*ret = (unsigned)d;
	return 0;
}

static int read_number(struct parse_ctx *ctx, const config_setting_t *v, const char *where,
                       double min, double max, double *ret)
{
	char got[128];
	double d;

	describe_value(v, got, sizeof(got));
	if (!is_number(v)) {
		add_error(ctx, config_setting_source_line(v), where, "must be a number, got %s",
		          got);
		return -EINVAL;
	}
	d = number_of(v);
	if (!(d >= min && d <= max)) {
		add_error(ctx, config_setting_source_line(v), where, "must be %g..%g, got %s", min,
		          max, got);
		return -EINVAL;
	}
	*ret = d;
	return 0;
}

static int read_bool(struct parse_ctx *ctx, const config_setting_t *v, const char *where, bool *ret)
{
	char got[128];

	if (config_setting_type(v) != CONFIG_TYPE_BOOL) {
		describe_value(v, got, sizeof(got));
		add_error(ctx, config_setting_source_line(v), where,
		          "must be true or false, got %s", got);
		return -EINVAL;
	}
	*ret = config_setting_get_bool(v);
	return 0;
}

static int read_string(struct parse_ctx *ctx, const config_setting_t *v, const char *where,
                       char **ret)
{
	char got[128], *s;

	if (config_setting_type(v) != CONFIG_TYPE_STRING) {
		describe_value(v, got, sizeof(got));
		add_error(ctx, config_setting_source_line(v), where, "must be a string, got %s",
		          got);
		return -EINVAL;
	}
	s = strdup(config_setting_get_string(v));
	if (!s)
		return -ENOMEM;
	free(*ret);
	*ret = s;
	return 0;
}

/* Names are used in file names and D-Bus paths: [A-Za-z0-9_-]{1,64}. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int read_name(struct parse_ctx *ctx, const config_setting_t *v, const char *where,
                     char **ret)
{
	int r = read_string(ctx, v, where, ret);

	if (r < 0)
		return r;
	if (!valid_name(*ret)) {
		add_error(ctx, config_setting_source_line(v), where,
		          "must be 1-64 letters, digits, '-' or '_', got \"%s\"", *ret);
		return -EINVAL;
	}
	return 0;
}

/* A list of agent specs (agents.h), each checked. */
static void read_agents(struct parse_ctx *ctx, const config_setting_t *v, const char *where,
                        struct agent_list *l)
{
	char err[256];

	if (!config_setting_is_array(v) && !config_setting_is_list(v)) {
		add_error(ctx, config_setting_source_line(v), where,
		          "must be a list of strings: [ \"host\", \"user@host*2\" ]");
		return;
	}
	agent_list_free(l);
	for (int i = 0; i < config_setting_length(v); i++) {
		const config_setting_t *e = config_setting_get_elem(v, (unsigned)i);
		const char *spec = config_setting_get_string(e);
		int r;

		if (!spec) {
			add_error(ctx, config_setting_source_line(v), where,
			          "element %d must be a string", i + 1);
			continue;
		}
		r = agent_list_add(l, spec, err, sizeof(err));
		if (r < 0)
			add_error(ctx, config_setting_source_line(v), where, "%s",
			          r == -ENOMEM ? "out of memory" : err);
	}
}

/* ---- sections ----------------------------------------------------------- */

static void parse_daemon(struct parse_ctx *ctx, const config_setting_t *g, struct daemon_config *d)
{
	char where[128];

	if (!config_setting_is_group(g)) {
		add_error(ctx, config_setting_source_line(g), "daemon", "must be a group { ... }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *v = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(v);

		snprintf(where, sizeof(where), "daemon.%s", key);
		if (strcmp(key, "report_dir") == 0) {
			if (read_string(ctx, v, where, &d->report_dir) == 0 &&
			    d->report_dir[0] != '/')
				add_error(ctx, config_setting_source_line(v), where,
				          "must be an absolute path, got \"%s\"", d->report_dir);
		} else if (strcmp(key, "keep_reports") == 0) {
			read_uint(ctx, v, where, 1, 1000000, &d->keep_reports);
		} else if (strcmp(key, "sample_interval_ms") == 0) {
			read_uint(ctx, v, where, 100, 60000, &d->sample_interval_ms);
		} else if (strcmp(key, "default_server") == 0) {
			read_name(ctx, v, where, &d->default_server);
		} else if (strcmp(key, "max_queued_runs") == 0) {
			read_uint(ctx, v, where, 1, 1000, &d->max_queued_runs);
		} else if (strcmp(key, "noise_other_cpu_percent") == 0) {
			/* Percent of one core: up to a thousand of them. */
			read_number(ctx, v, where, 0, 100000, &d->noise.other_cpu_percent);
		} else if (strcmp(key, "noise_steal_percent") == 0) {
			read_number(ctx, v, where, 0, 100, &d->noise.steal_percent);
		} else if (strcmp(key, "noise_freq_change_percent") == 0) {
			read_number(ctx, v, where, 0, 100, &d->noise.freq_change_percent);
		} else if (strcmp(key, "html_reports") == 0) {
			read_bool(ctx, v, where, &d->html_reports);
		} else if (strcmp(key, "agents") == 0) {
			read_agents(ctx, v, where, &d->agents);
		} else if (strcmp(key, "max_clock_skew_ms") == 0) {
			read_uint(ctx, v, where, 1, 60000, &d->max_clock_skew_ms);
		} else if (strcmp(key, "agent_url_host") == 0) {
			if (read_string(ctx, v, where, &d->agent_url_host) == 0 &&
			    (!d->agent_url_host[0] || strpbrk(d->agent_url_host, "/ \t?#")))
				add_error(ctx, config_setting_source_line(v), where,
				          "must be a host name or address, got \"%s\"",
				          d->agent_url_host);
		} else {
			add_error(ctx, config_setting_source_line(v), where, "unknown setting");
		}
	}
}

static int parse_command(struct parse_ctx *ctx, const config_setting_t *v, const char *where,
                         struct server_config *s)
{
	int n = config_setting_length(v);

	if (config_setting_type(v) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(v) != CONFIG_TYPE_LIST) {
		add_error(
		    ctx, config_setting_source_line(v), where,
		    "must be a list of strings, e.g. [\"/path/server\", \"--port\", \"{port}\"]");
		return -EINVAL;
	}
	if (n < 1) {
		add_error(ctx, config_setting_source_line(v), where, "must not be empty");
		return -EINVAL;
	}
	s->command = calloc((size_t)n + 1, sizeof(char *));
	if (!s->command)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(v, (unsigned)i);
		char item[160];

		snprintf(item, sizeof(item), "%s.[%d]", where, i);
		if (read_string(ctx, e, item, &s->command[i]) < 0)
			return -EINVAL;
	}
	if (s->command[0][0] != '/' && strncmp(s->command[0], "{servers_dir}", 13) != 0)
		add_error(ctx, config_setting_source_line(v), where,
		          "the program must be an absolute path (or start with {servers_dir}), got "
		          "\"%s\"",
		          s->command[0]);
	return 0;
}

/* ---- TLS and capabilities ---------------------------------------------- */

static const char *const cap_names[SERVER_N_CAPS] = {
	[SERVER_CAP_TLS] = "tls",
	[SERVER_CAP_DEFLATE] = "deflate",
};

const char *server_cap_to_string(enum server_cap c)
{
	return c < SERVER_N_CAPS ? cap_names[c] : "unknown";
}

/* capabilities = [ "tls", "deflate" ]: replaces the kind's default. */
static void parse_capabilities(struct parse_ctx *ctx, const config_setting_t *v, const char *where,
                               unsigned *caps)
{
	if (!config_setting_is_array(v) && !config_setting_is_list(v)) {
		add_error(ctx, config_setting_source_line(v), where,
		          "must be a list of strings: [ \"tls\", \"deflate\" ]");
		return;
	}
	*caps = 0;
	for (int i = 0; i < config_setting_length(v); i++) {
		const char *name =
		    config_setting_get_string(config_setting_get_elem(v, (unsigned)i));
		unsigned c;

		for (c = 0; name && c < SERVER_N_CAPS; c++)
			if (strcmp(name, cap_names[c]) == 0)
				break;
		if (!name || c == SERVER_N_CAPS)
			add_error(ctx, config_setting_source_line(v), where,
			          "element %d must be \"tls\" or \"deflate\", got %s%s%s", i + 1,
			          name ? "\"" : "", name ? name : "a non-string", name ? "\"" : "");
		else
			*caps |= 1u << c;
	}
}

static void parse_tls(struct parse_ctx *ctx, const config_setting_t *g, const char *where,
                      struct server_tls *t)
{
	char key_where[160];

	t->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		add_error(ctx, t->line, where,
		          "must be a group { cert = \"/path\"; key = \"/path\"; }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *v = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(v);
		char **slot = strcmp(key, "cert") == 0  ? &t->cert
		              : strcmp(key, "key") == 0 ? &t->key
		              : strcmp(key, "ca") == 0  ? &t->ca
		                                        : NULL;

		snprintf(key_where, sizeof(key_where), "%s.%s", where, key);
		if (!slot)
			add_error(ctx, config_setting_source_line(v), key_where,
			          "unknown setting (cert, key, ca)");
		else if (read_string(ctx, v, key_where, slot) == 0 && (*slot)[0] != '/')
			add_error(ctx, config_setting_source_line(v), key_where,
			          "must be an absolute path, got \"%s\"", *slot);
	}
}

/* The first OpenSSL error, for a message. */
static const char *ssl_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (!e)
		return "no PEM data found";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/* A PEM certificate from @path, or NULL with an error added. */
static X509 *read_cert(struct parse_ctx *ctx, int line, const char *where, const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (!f) {
		add_error(ctx, line, where, "cannot read \"%s\": %m", path);
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		add_error(ctx, line, where, "\"%s\" holds no PEM certificate (%s)", path,
		          ssl_error());
	return x;
}

/*
 * The files of a server's tls group: readable, PEM, the key the one of the
 * certificate. The key is wsbenchd's secret (the server it starts runs as
 * its user): one others may read is a warning.
 */
static void check_tls_files(struct parse_ctx *ctx, const struct server_tls *t, const char *where)
{
	char w[160];
	X509 *cert = NULL, *ca;
	EVP_PKEY *key = NULL;
	struct stat st;
	FILE *f;

	if (t->cert) {
		snprintf(w, sizeof(w), "%s.cert", where);
		cert = read_cert(ctx, t->line, w, t->cert);
	}
	if (t->ca) {
		snprintf(w, sizeof(w), "%s.ca", where);
		ca = read_cert(ctx, t->line, w, t->ca);
		X509_free(ca);
	}
	if (t->key) {
		snprintf(w, sizeof(w), "%s.key", where);
		f = fopen(t->key, "re");
		if (!f) {
			add_error(ctx, t->line, w, "cannot read \"%s\": %m", t->key);
		} else {
			if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
				add_warning(ctx, t->line, w,
				            "\"%s\" is readable by every user (mode %04o): a "
				            "private key should be readable by wsbenchd only "
				            "(chmod 600)",
				            t->key, (unsigned)(st.st_mode & 07777));
			key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
			fclose(f);
			if (!key)
				add_error(ctx, t->line, w, "\"%s\" holds no PEM private key (%s)",
				          t->key, ssl_error());
		}
	}
	if (cert && key && X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		snprintf(w, sizeof(w), "%s.key", where);
		add_error(ctx, t->line, w,
		          "\"%s\" is not the private key of the certificate \"%s\"", t->key,
		          t->cert);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
}

/*
 * A server's capabilities, by default what its kind can do (wsbench-echo:
 * both; a command: none unless declared; a url: tls when it is wss://),
 * and its tls group against them and its kind.
 */
static void check_server_tls(struct parse_ctx *ctx, struct server_config *s, size_t index,
                             bool have_caps, const config_setting_t *caps_setting)
{
	bool wss = s->kind == SERVER_URL && s->url && strncmp(s->url, "wss://", 6) == 0;
	char where[64];

	snprintf(where, sizeof(where), "servers.[%zu].capabilities", index);
	if (!have_caps)
		s->caps = s->kind == SERVER_BUILTIN
		              ? (1u << SERVER_CAP_TLS) | (1u << SERVER_CAP_DEFLATE)
		          : wss ? 1u << SERVER_CAP_TLS
		                : 0;
	else if (s->kind == SERVER_URL && !wss != !(s->caps & (1u << SERVER_CAP_TLS)))
		add_error(ctx, config_setting_source_line(caps_setting), where,
		          "a url server has \"tls\" exactly when its url is wss://");
	snprintf(where, sizeof(where), "servers.[%zu].tls", index);
	if (!s->tls.line)
		return;
	if (!(s->caps & (1u << SERVER_CAP_TLS))) {
		add_error(ctx, s->tls.line, where,
		          "server \"%s\" does not have the tls capability (%s)",
		          s->name ? s->name : "?",
		          s->kind == SERVER_COMMAND ? "declare it: capabilities = [ \"tls\" ]"
		          : s->kind == SERVER_URL   ? "its url is not wss://"
		                                    : "capabilities leaves it out");
		return;
	}
	if (s->kind == SERVER_URL && (s->tls.cert || s->tls.key))
		add_error(ctx, s->tls.line, where,
		          "a url server takes only ca (we do not start it: cert and key are its "
		          "own)");
	else if (s->kind != SERVER_URL && (!s->tls.cert || !s->tls.key))
		add_error(ctx, s->tls.line, where, "needs both cert and key");
	check_tls_files(ctx, &s->tls, where);
}

static void parse_server(struct parse_ctx *ctx, const config_setting_t *g, size_t index,
                         struct server_config *s)
{
	char where[128];
	bool builtin = false, have_port = false, have_caps = false;
	const config_setting_t *caps_setting = NULL;
	int kinds = 0;

	*s = (struct server_config){ .threads = 1,
		                     .ready_timeout = 10,
		                     .line = config_setting_source_line(g) };
	if (!config_setting_is_group(g)) {
		snprintf(where, sizeof(where), "servers.[%zu]", index);
		add_error(ctx, s->line, where, "must be a group { name = ...; ... }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *v = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(v);

		snprintf(where, sizeof(where), "servers.[%zu].%s", index, key);
		if (strcmp(key, "name") == 0) {
			read_name(ctx, v, where, &s->name);
		} else if (strcmp(key, "language") == 0) {
			read_name(ctx, v, where, &s->language);
		} else if (strcmp(key, "builtin") == 0) {
			if (config_setting_type(v) != CONFIG_TYPE_BOOL)
				add_error(ctx, config_setting_source_line(v), where,
				          "must be true or false");
			else if ((builtin = config_setting_get_bool(v)))
				kinds++;
		} else if (strcmp(key, "command") == 0) {
			if (parse_command(ctx, v, where, s) == 0)
				kinds++;
		} else if (strcmp(key, "url") == 0) {
			if (read_string(ctx, v, where, &s->url) == 0) {
				kinds++;
				if (strncmp(s->url, "ws://", 5) != 0 &&
				    strncmp(s->url, "wss://", 6) != 0)
					add_error(ctx, config_setting_source_line(v), where,
					          "must be a ws:// or wss:// URL, got \"%s\"",
					          s->url);
			}
		} else if (strcmp(key, "port") == 0) {
			have_port = true; /* a bad value is reported here, once */
			read_uint(ctx, v, where, 1024, 65535, &s->port);
		} else if (strcmp(key, "threads") == 0) {
			read_uint(ctx, v, where, 1, 64, &s->threads);
		} else if (strcmp(key, "ready_timeout") == 0) {
			if (!is_number(v) || number_of(v) < 0.1 || number_of(v) > 600)
				add_error(ctx, config_setting_source_line(v), where,
				          "must be 0.1..600 seconds");
			else
				s->ready_timeout = number_of(v);
		} else if (strcmp(key, "tls") == 0) {
			parse_tls(ctx, v, where, &s->tls);
		} else if (strcmp(key, "capabilities") == 0) {
			have_caps = true;
			caps_setting = v;
			parse_capabilities(ctx, v, where, &s->caps);
		} else {
			add_error(ctx, config_setting_source_line(v), where, "unknown setting");
		}
	}
	snprintf(where, sizeof(where), "servers.[%zu]", index);
	if (!s->name)
		add_error(ctx, s->line, where, "missing name");
	if (kinds != 1)
		add_error(
		    ctx, s->line, where,
		    "needs exactly one of builtin = true, command = [...] or url = \"ws://...\"");
	s->kind = builtin ? SERVER_BUILTIN : s->command ? SERVER_COMMAND : SERVER_URL;
	if (s->kind != SERVER_URL && !have_port && kinds == 1)
		add_error(ctx, s->line, where, "needs a port (1024..65535) to run the server on");
	if (s->kind == SERVER_COMMAND && s->command) {
		bool placeholder = false;

		for (char **a = s->command; *a; a++)
			placeholder = placeholder || strstr(*a, "{port}");
		if (!placeholder)
			add_error(ctx, s->line, where,
			          "command must pass the port with a \"{port}\" placeholder");
	}
	if (!s->language)
		s->language = strdup(s->kind == SERVER_BUILTIN ? "c" : "unknown");
	check_server_tls(ctx, s, index, have_caps, caps_setting);
}

static void parse_scenario(struct parse_ctx *ctx, const config_setting_t *g, size_t index,
                           struct scenario_config *s)
{
	char where[128], err[256];
	int line = config_setting_source_line(g);

	scenario_init(s);
	s->line = line;
	if (!config_setting_is_group(g)) {
		snprintf(where, sizeof(where), "scenarios.[%zu]", index);
		add_error(ctx, line, where, "must be a group { name = ...; ... }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *v = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(v);
		int r;

		snprintf(where, sizeof(where), "scenarios.[%zu].%s", index, key);
		if (strcmp(key, "name") == 0) {
			read_name(ctx, v, where, &s->name);
			continue;
		}
		if (strcmp(key, "description") == 0) {
			read_string(ctx, v, where, &s->description);
			continue;
		}
		if (strcmp(key, "agents") == 0) {
			read_agents(ctx, v, where, &s->agents);
			continue;
		}
		/* The settings: scenario.c's table, shared with the overrides. */
		if (config_setting_type(v) == CONFIG_TYPE_BOOL)
			r = scenario_set_bool(s, key, config_setting_get_bool(v), err, sizeof(err));
		else if (config_setting_type(v) == CONFIG_TYPE_STRING)
			r = scenario_set_string(s, key, config_setting_get_string(v), err,
			                        sizeof(err));
		else if (is_number(v))
			r = scenario_set_number(s, key, number_of(v),
			                        config_setting_type(v) != CONFIG_TYPE_FLOAT, err,
			                        sizeof(err));
		else {
			r = scenario_find_field(key) ? -EINVAL : -ENOENT;
			snprintf(err, sizeof(err), "must be a number, a string or true/false");
		}
		if (r == -ENOENT)
			add_error(ctx, config_setting_source_line(v), where, "unknown setting");
		else if (r < 0)
			add_error(ctx, config_setting_source_line(v), where, "%s", err);
	}
	snprintf(where, sizeof(where), "scenarios.[%zu]", index);
	if (!s->name)
		add_error(ctx, line, where, "missing name");
	if (scenario_check(s, err, sizeof(err)) < 0) {
		char *colon = strchr(err, ':');

		snprintf(where, sizeof(where), "scenarios.[%zu].%.*s", index,
		         colon ? (int)(colon - err) : 0, err);
		add_error(ctx, line, where, "%s", colon ? colon + 2 : err);
	}
}

/* Both entry structs start with their name; @line_offset locates the line. */
static void check_unique_names(struct parse_ctx *ctx, const char *section, const char *noun,
                               const void *items, size_t n, size_t stride, size_t line_offset)
{
	for (size_t i = 0; i < n; i++) {
		const char *item = (const char *)items + i * stride;
		const char *name = *(char *const *)item;

		for (size_t j = 0; name && j < i; j++) {
			const char *other = (const char *)items + j * stride;
			const char *other_name = *(char *const *)other;
			char where[64];

			if (!other_name || strcmp(name, other_name) != 0)
				continue;
			snprintf(where, sizeof(where), "%s.[%zu].name", section, i);
			add_error(ctx, *(const int *)(item + line_offset), where,
			          "duplicate %s name \"%s\" (first at line %d)", noun, name,
			          *(const int *)(other + line_offset));
		}
	}
}

static void check_unique(struct parse_ctx *ctx, struct wsbench_config *c)
{
	check_unique_names(ctx, "servers", "server", c->servers, c->n_servers,
	                   sizeof(struct server_config), offsetof(struct server_config, line));
	check_unique_names(ctx, "scenarios", "scenario", c->scenarios, c->n_scenarios,
	                   sizeof(struct scenario_config), offsetof(struct scenario_config, line));
	for (size_t i = 0; i < c->n_servers; i++)
		for (size_t j = 0; j < i; j++)
			if (c->servers[i].port && c->servers[i].port == c->servers[j].port) {
				char where[64];

				snprintf(where, sizeof(where), "servers.[%zu].port", i);
				add_error(ctx, c->servers[i].line, where,
				          "port %u is already used by server \"%s\"",
				          c->servers[i].port,
				          c->servers[j].name ? c->servers[j].name : "?");
			}
}

static int parse_list(struct parse_ctx *ctx, const config_t *cf, const char *name, size_t elem,
                      void **ret, size_t *n)
{
	config_setting_t *list = config_lookup(cf, name);

	*ret = NULL;
	*n = 0;
	if (!list)
		return 0;
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		add_error(ctx, config_setting_source_line(list), name,
		          "must be a list ( {...}, {...} )");
		return 0;
	}
	*n = (size_t)config_setting_length(list);
	*ret = calloc(*n ? *n : 1, elem);
	return *ret ? 0 : -ENOMEM;
}

static void check_top_level(struct parse_ctx *ctx, const config_t *cf)
{
	config_setting_t *root = config_root_setting(cf);

	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *v = config_setting_get_elem(root, (unsigned)i);
		const char *key = config_setting_name(v);

		if (strcmp(key, "daemon") && strcmp(key, "servers") && strcmp(key, "scenarios"))
			add_error(ctx, config_setting_source_line(v), key,
			          "unknown section (expected daemon, servers, scenarios)");
	}
}

void server_config_clear(struct server_config *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->language);
	free(s->url);
	free(s->tls.cert);
	free(s->tls.key);
	free(s->tls.ca);
	for (char **a = s->command; a && *a; a++)
		free(*a);
	free(s->command);
}

void server_config_free(struct server_config *s)
{
	server_config_clear(s);
	free(s);
}

static void config_free(struct wsbench_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_servers; i++)
		server_config_clear(&c->servers[i]);
	for (size_t i = 0; i < c->n_scenarios; i++)
		scenario_free(&c->scenarios[i]);
	free(c->servers);
	free(c->scenarios);
	free(c->daemon.report_dir);
	free(c->daemon.default_server);
	agent_list_free(&c->daemon.agents);
	free(c->daemon.agent_url_host);
	free(c->path);
	free(c);
}

static int parse_all(struct parse_ctx *ctx, const config_t *cf, struct wsbench_config *c)
{
	config_setting_t *d = config_lookup(cf, "daemon");
	void *list;
	int r;

	check_top_level(ctx, cf);
	if (d)
		parse_daemon(ctx, d, &c->daemon);
	r = parse_list(ctx, cf, "servers", sizeof(struct server_config), &list, &c->n_servers);
	if (r < 0)
		return r;
	c->servers = list;
	for (size_t i = 0; i < c->n_servers; i++)
		parse_server(ctx,
		             config_setting_get_elem(config_lookup(cf, "servers"), (unsigned)i), i,
		             &c->servers[i]);
	r = parse_list(ctx, cf, "scenarios", sizeof(struct scenario_config), &list,
	               &c->n_scenarios);
	if (r < 0)
		return r;
	c->scenarios = list;
	for (size_t i = 0; i < c->n_scenarios; i++)
		parse_scenario(ctx,
		               config_setting_get_elem(config_lookup(cf, "scenarios"), (unsigned)i),
		               i, &c->scenarios[i]);
	check_unique(ctx, c);
	if (c->n_servers == 0)
		add_error(ctx, 1, "servers", "at least one server must be declared");
	if (!c->daemon.default_server && c->n_servers && c->servers[0].name)
		c->daemon.default_server = strdup(c->servers[0].name);
	if (c->daemon.default_server && c->n_servers &&
	    !config_find_server(c, c->daemon.default_server))
		add_error(ctx, d ? config_setting_source_line(d) : 1, "daemon.default_server",
		          "no server is named \"%s\"", c->daemon.default_server);
	return 0;
}

int config_load(const char *path, struct wsbench_config **ret, struct config_errors *errors)
{
	struct parse_ctx ctx = { .path = path, .errors = errors };
	struct wsbench_config *c;
	config_t cf;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->refs = 1;
	c->path = strdup(path);
	c->daemon = (struct daemon_config){
		.report_dir = strdup(DEFAULT_REPORT_DIR),
		.keep_reports = 200,
		.sample_interval_ms = 1000,
		.max_queued_runs = 16,
		.noise = { .other_cpu_percent = 25, .steal_percent = 5, .freq_change_percent = 10 },
		.html_reports = true,
		.max_clock_skew_ms = 50,
	};
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			add_error(&ctx, 0, "file", "cannot be read: %m");
		else
			add_error(&ctx, config_error_line(&cf), "syntax", "%s",
			          config_error_text(&cf));
		config_destroy(&cf);
		config_free(c);
		return -EINVAL;
	}
	r = parse_all(&ctx, &cf, c);
	config_destroy(&cf);
	if (r < 0 || errors->n) {
		config_free(c);
		return r < 0 ? r : -EINVAL;
	}
	*ret = c;
	return 0;
}

struct wsbench_config *config_ref(struct wsbench_config *c)
{
	if (c)
		c->refs++;
	return c;
}

struct wsbench_config *config_unref(struct wsbench_config *c)
{
	if (c && --c->refs == 0)
		config_free(c);
	return NULL;
}

const struct server_config *config_find_server(const struct wsbench_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_servers; i++)
		if (c->servers[i].name && strcmp(c->servers[i].name, name) == 0)
			return &c->servers[i];
	return NULL;
}

bool config_agent_allowed(const struct wsbench_config *c, const char *spec)
{
	if (agent_list_names(&c->daemon.agents, spec))
		return true;
	for (size_t i = 0; i < c->n_scenarios; i++)
		if (agent_list_names(&c->scenarios[i].agents, spec))
			return true;
	return false;
}

const struct scenario_config *config_find_scenario(const struct wsbench_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_scenarios; i++)
		if (c->scenarios[i].name && strcmp(c->scenarios[i].name, name) == 0)
			return &c->scenarios[i];
	return NULL;
}

const char *server_kind_to_string(enum server_kind k)
{
	return k == SERVER_BUILTIN ? "builtin" : k == SERVER_COMMAND ? "command" : "url";
}

/* ---- normal form -------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

_printf_(2, 3) static void out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = MAX(b->cap * 2, b->len + (size_t)n + 256);
		char *grown = realloc(b->p, b->cap);

		if (!grown)
			return;
		b->p = grown;
	}
}

/* @s between double quotes, escaped the way libconfig's scanner reads it
 * back, so the normal form loads again to the same strings. */
static void out_quoted(struct buf *b, const char *s)
{
	out(b, "\"");
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			out(b, "\\\"");
			break;
		case '\\':
			out(b, "\\\\");
			break;
		case '\n':
			out(b, "\\n");
			break;
		case '\r':
			out(b, "\\r");
			break;
		case '\t':
			out(b, "\\t");
			break;
		case '\f':
			out(b, "\\f");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				out(b, "\\x%02x", *p);
			else
				out(b, "%c", *p);
		}
	}
	out(b, "\"");
}

static void out_agents(struct buf *b, const char *indent, const struct agent_list *l)
{
	if (!l->n)
		return;
	out(b, "%sagents = [ ", indent);
	for (size_t i = 0; i < l->n; i++) {
		out(b, "%s", i ? ", " : "");
		out_quoted(b, l->v[i]);
	}
	out(b, " ];%s", indent[0] ? "\n" : " ");
}

char *config_dump(const struct wsbench_config *c)
{
	struct buf b = { 0 };

	out(&b, "daemon: {\n  report_dir = ");
	out_quoted(&b, c->daemon.report_dir);
	out(&b, ";\n  keep_reports = %u;\n  sample_interval_ms = %u;\n  default_server = ",
	    c->daemon.keep_reports, c->daemon.sample_interval_ms);
	out_quoted(&b, c->daemon.default_server);
	out(&b, ";\n  max_queued_runs = %u;\n", c->daemon.max_queued_runs);
	out(&b,
	    "  noise_other_cpu_percent = %.15g;\n  noise_steal_percent = %.15g;\n"
	    "  noise_freq_change_percent = %.15g;\n  html_reports = %s;\n};\n",
	    c->daemon.noise.other_cpu_percent, c->daemon.noise.steal_percent,
	    c->daemon.noise.freq_change_percent, c->daemon.html_reports ? "true" : "false");
	/* The distributed-run settings only when used: most labs have one machine. */
	if (c->daemon.agents.n || c->daemon.agent_url_host) {
		b.len -= 3; /* reopen the group: "};\n" */
		out_agents(&b, "  ", &c->daemon.agents);
		if (c->daemon.agent_url_host) {
			out(&b, "  agent_url_host = ");
			out_quoted(&b, c->daemon.agent_url_host);
			out(&b, ";\n");
		}
		out(&b, "  max_clock_skew_ms = %u;\n};\n", c->daemon.max_clock_skew_ms);
	}
	out(&b, "servers = (\n");
	for (size_t i = 0; i < c->n_servers; i++) {
		const struct server_config *s = &c->servers[i];

		out(&b, "  { name = ");
		out_quoted(&b, s->name);
		out(&b, "; language = ");
		out_quoted(&b, s->language);
		out(&b, "; ");
		if (s->kind == SERVER_BUILTIN) {
			out(&b, "builtin = true; port = %u; threads = %u; ", s->port, s->threads);
		} else if (s->kind == SERVER_COMMAND) {
			out(&b, "command = [");
			for (char **a = s->command; *a; a++) {
				out(&b, "%s", a == s->command ? "" : ", ");
				out_quoted(&b, *a);
			}
			out(&b, "]; port = %u; ", s->port);
		} else {
			out(&b, "url = ");
			out_quoted(&b, s->url);
			out(&b, "; ");
		}
		if (s->kind != SERVER_URL)
			out(&b, "ready_timeout = %g; ", s->ready_timeout);
		out(&b, "capabilities = [");
		for (unsigned k = 0, n = 0; k < SERVER_N_CAPS; k++)
			if (s->caps & (1u << k))
				out(&b, "%s\"%s\"", n++ ? ", " : " ", cap_names[k]);
		out(&b, "%s]; ", s->caps ? " " : "");
		if (s->tls.line) {
			static const char *const names[] = { "cert", "key", "ca" };
			const char *vals[] = { s->tls.cert, s->tls.key, s->tls.ca };

			out(&b, "tls = { ");
			for (size_t k = 0; k < ELEMENTSOF(names); k++)
				if (vals[k]) {
					out(&b, "%s = ", names[k]);
					out_quoted(&b, vals[k]);
					out(&b, "; ");
				}
			out(&b, "}; ");
		}
		out(&b, "}%s\n", i + 1 < c->n_servers ? "," : "");
	}
	out(&b, ");\nscenarios = (\n");
	for (size_t i = 0; i < c->n_scenarios; i++) {
		const struct scenario_config *s = &c->scenarios[i];

		out(&b, "  { name = ");
		out_quoted(&b, s->name);
		out(&b, "; ");
		if (s->description) {
			out(&b, "description = ");
			out_quoted(&b, s->description);
			out(&b, "; ");
		}
		for (size_t k = 0; k < scenario_n_fields; k++) {
			struct scenario_value v;

			if (!scenario_get(s, k, &v))
				continue;
			if (v.field->type == SCENARIO_UINT)
				out(&b, "%s = %u; ", v.field->name, v.u);
			else if (v.field->type == SCENARIO_DOUBLE)
				out(&b, "%s = %g; ", v.field->name, v.d);
			else if (v.field->type == SCENARIO_BOOL)
				out(&b, "%s = %s; ", v.field->name, v.choice);
			else
				out(&b, "%s = \"%s\"; ", v.field->name, v.choice);
		}
		if (s->agents.n)
			out_agents(&b, "", &s->agents);
		out(&b, "}%s\n", i + 1 < c->n_scenarios ? "," : "");
	}
	out(&b, ");\n");
	return b.p;
}

/* ---- what a run needs of its server ------------------------------------ */

int server_check_scenario(const struct server_config *s, const struct scenario_config *sc,
                          char *err, size_t errlen)
{
	bool wss = s->kind == SERVER_URL && strncmp(s->url, "wss://", 6) == 0;

	if (sc->tls && !(s->caps & (1u << SERVER_CAP_TLS))) {
		snprintf(err, errlen,
		         "server %s does not have the tls capability: scenario %s has tls = true "
		         "(wsbenchctl list-servers shows what each server can do)",
		         s->name, sc->name ? sc->name : "?");
		return -EOPNOTSUPP;
	}
	if (sc->tls && s->kind != SERVER_URL && !s->tls.cert) {
		snprintf(err, errlen,
		         "server %s has the tls capability but no certificate: give it "
		         "tls = { cert = \"...\"; key = \"...\"; } in the configuration",
		         s->name);
		return -EOPNOTSUPP;
	}
	if (!sc->tls && wss) {
		snprintf(err, errlen,
		         "server %s is reached over wss:// (%s): scenario %s needs tls = true",
		         s->name, s->url, sc->name ? sc->name : "?");
		return -EOPNOTSUPP;
	}
	if (sc->deflate && !(s->caps & (1u << SERVER_CAP_DEFLATE))) {
		snprintf(err, errlen,
		         "server %s does not have the deflate capability: scenario %s has "
		         "deflate = true (wsbenchctl list-servers shows what each server can do)",
		         s->name, sc->name ? sc->name : "?");
		return -EOPNOTSUPP;
	}
	return 0;
}
