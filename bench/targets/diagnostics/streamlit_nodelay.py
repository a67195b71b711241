"""`streamlit ...` with Nagle's algorithm off on its connections; not a Streamlit setting.

Streamlit 1.67 binds its listening socket itself with `socket.socket(family)`, whose `proto` is
0; asyncio sets TCP_NODELAY only on accepted sockets whose proto is IPPROTO_TCP, so Streamlit's
connections keep Nagle's algorithm on, and a rerun's small websocket frames wait for the
client's delayed ACK. This launcher binds the socket with proto=IPPROTO_TCP instead, so that the
effect can be measured; everything else is Streamlit's own code.
"""

import socket
import sys

from streamlit.web.cli import main
from streamlit.web.server.starlette import starlette_server

_streamlit_bind_socket = starlette_server._bind_socket


def _bind_tcp_socket(address: str, port: int, backlog: int) -> socket.socket:
    sock = _streamlit_bind_socket(address, port, backlog)
    tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return tcp


if __name__ == "__main__":
    starlette_server._bind_socket = _bind_tcp_socket
    sys.exit(main())
