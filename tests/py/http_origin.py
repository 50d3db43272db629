"""An HTTP/1.1 origin server for the httpc tests (tests/lua_http.rs, tests/lua/http_client.lua).

Prints "PORT <n>" once listening on 127.0.0.1, then serves until killed:
  GET  /hello           "hello <X-Test> <Host>"                (Content-Length)
  HEAD /hello           the same header, no body
  POST /form            "<content-type>|<body>"
  POST /echo            the body back, whatever its framing (Content-Length or chunked)
  GET  /chunked         a chunked answer "first," "second," "third" with trailer X-Trailer: done
  GET  /close           "until close", framed by closing the connection (no Content-Length)
  GET  /nocontent       204
  GET  /missing         404 "missing"
  GET  /slow            never answers: waits until the client closes the connection
With "--tls CERT KEY" it serves HTTPS with that certificate instead.
"""

import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("origin: " + (fmt % args) + "\n")

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path == "/hello":
            text = "hello %s %s" % (self.headers.get("X-Test", "-"), self.headers.get("Host", "-"))
            self.reply(200, text.encode())
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Trailer")
            self.end_headers()
            for piece in (b"first,", b"second,", b"third"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close")
            self.close_connection = True
        elif self.path == "/nocontent":
            self.send_response(204)
            self.end_headers()
        elif self.path == "/slow":
            # The request has no body, so this read returns only when the client closes.
            self.rfile.read(1)
            self.close_connection = True
        else:
            self.reply(404, b"missing")

    def do_POST(self):
        body = self.read_body()
        if self.path == "/form":
            self.reply(200, self.headers.get("Content-Type", "-").encode() + b"|" + body)
        elif self.path == "/echo":
            self.reply(200, body)
        else:
            self.reply(404, b"missing")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
