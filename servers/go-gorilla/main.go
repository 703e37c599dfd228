// Command go-gorilla is wsbench's Go reference echo server: net/http with
// github.com/gorilla/websocket, one goroutine per connection.
//
// Same command-line contract as wsbench-echo (see servers/README.md):
// --port N (default 9001, 0 = any free port), --host ADDR (default
// 127.0.0.1), --max-message-size BYTES (default 16 MiB). It prints
// "READY ws://HOST:PORT/" on stdout once listening; SIGTERM/SIGINT close every
// connection with 1001 and exit 0.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

const (
	defaultPort       = 9001
	defaultMaxMessage = 16 << 20
)

// registry remembers open connections so that shutdown can say goodbye
// (1001) to each; hijacked connections are invisible to http.Server.
type registry struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
	wg    sync.WaitGroup
}

func (r *registry) add(c *websocket.Conn) {
	r.mu.Lock()
	r.conns[c] = struct{}{}
	r.mu.Unlock()
}

func (r *registry) remove(c *websocket.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
}

func (r *registry) closeAll(code int, deadline time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := websocket.FormatCloseMessage(code, "server shutting down")
	for c := range r.conns {
		// WriteControl may run concurrently with the echo loop's writes.
		_ = c.WriteControl(websocket.CloseMessage, msg, deadline)
	}
}

func echo(c *websocket.Conn, maxMessage int64) {
	c.SetReadLimit(maxMessage)
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		// gorilla leaves UTF-8 validation of text messages to the
		// application; its own Autobahn server checks it like this.
		if mt == websocket.TextMessage && !utf8.Valid(msg) {
			_ = c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""),
				time.Now().Add(time.Second))
			return
		}
		if err := c.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "go-gorilla: %s\n", msg)
	fmt.Fprintln(os.Stderr, "usage: go-gorilla [--port N] [--host ADDR] [--max-message-size BYTES]")
	os.Exit(2)
}

type rangedInt struct {
	name     string
	val      *int64
	min, max int64
}

func (r rangedInt) String() string { return "" }
func (r rangedInt) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not a number: '%s'", s)
	}
	if n < r.min || n > r.max {
		return fmt.Errorf("must be %d..%d, got %d", r.min, r.max, n)
	}
	*r.val = n
	return nil
}

func main() {
	var port int64 = defaultPort
	var maxMessage int64 = defaultMaxMessage
	fs := flag.NewFlagSet("go-gorilla", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	host := fs.String("host", "127.0.0.1", "address to listen on")
	tlsCert := fs.String("tls-cert", "", "serve wss:// with this certificate chain (PEM)")
	tlsKey := fs.String("tls-key", "", "and this private key (PEM)")
	deflate := fs.Bool("deflate", false, "accept permessage-deflate (RFC 7692)")
	fs.Var(rangedInt{"port", &port, 0, 65535}, "port", "TCP port")
	fs.Var(rangedInt{"max-message-size", &maxMessage, 1, 1 << 30}, "max-message-size", "bytes")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Println("usage: go-gorilla [--port N] [--host ADDR] [--max-message-size BYTES]\n" +
				"                  [--tls-cert FILE --tls-key FILE] [--deflate]")
			os.Exit(0)
		}
		usage(err.Error())
	}
	if fs.NArg() > 0 {
		usage(fmt.Sprintf("unexpected argument '%s'", fs.Arg(0)))
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		usage("--tls-cert and --tls-key go together")
	}
	// crypto/tls from the standard library: loaded here so a bad file is
	// reported before READY, by name.
	var tlsConfig *tls.Config
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			usage(fmt.Sprintf("--tls-cert %s / --tls-key %s: %v", *tlsCert, *tlsKey, err))
		}
		// HTTP/1.1 only: the WebSocket upgrade is HTTP/1.1's.
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	}

	reg := &registry{conns: make(map[*websocket.Conn]struct{})}
	// Settings from gorilla's documentation: no compression unless --deflate
	// (it is CPU-bound: a --deflate run measures exactly that cost), 4 KiB
	// buffers (the net/http defaults), write buffers pooled so idle
	// connections hold none. gorilla's compression is "no context
	// takeover" both ways, whatever the client offers.
	upgrader := websocket.Upgrader{
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: *deflate,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		reg.wg.Add(1)
		reg.add(c)
		defer func() {
			reg.remove(c)
			c.Close()
			reg.wg.Done()
		}()
		echo(c, maxMessage)
	})

	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.FormatInt(port, 10)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-gorilla: %v\n", err)
		os.Exit(1)
	}
	// Handlers first: a supervisor may signal as soon as it reads READY.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	addr := ln.Addr().(*net.TCPAddr)
	scheme := "ws"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "wss"
	}
	fmt.Printf("READY %s://%s/\n", scheme, net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port)))
	go func() {
		<-sigs
		ln.Close()
		reg.closeAll(websocket.CloseGoingAway, time.Now().Add(500*time.Millisecond))
		done := make(chan struct{})
		go func() { reg.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		os.Exit(0)
	}()

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(os.Stderr, "go-gorilla: %v\n", err)
		os.Exit(1)
	}
	select {} // the signal goroutine exits the process
}
