"""Fetching remote resources, only when the author asked for it (``--allow-remote``).

A book built in CI from someone else's pull request must not be able to make the build
machine talk to its own network: only http(s), only to public addresses (never loopback,
link-local, private, multicast or reserved ones, checked on the address actually connected
to, so DNS cannot rebind it), with a timeout and a size cap, and few redirects.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..errors import BookError

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class RemoteResource:
    """What a server sent: the final URL, the bytes and the media type it claimed."""

    url: str
    data: bytes
    media_type: str


def check_remote_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL, or :class:`BookError` for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BookError(f"'{url[:200]}': only http and https resources can be fetched")
    if not parts.hostname:
        raise BookError(f"'{url[:200]}': no host name")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BookError(f"'{url[:200]}': invalid port") from None
    return parts.scheme, parts.hostname, port


def public_address(host: str, port: int) -> str:
    """One public IP address of ``host``; refuses hosts that resolve to internal addresses."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise BookError(f"cannot resolve host '{host}'") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise BookError(f"host '{host}' is a local or private address ({ip}): not fetched",
                            hint="only public http(s) servers can be fetched from, even with --allow-remote")
    if not addresses:
        raise BookError(f"cannot resolve host '{host}'")
    return addresses[0]


def fetch_remote(url: str, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS) -> RemoteResource:
    """GET ``url`` under the rules above, following at most a few checked redirects."""
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = check_remote_url(url)
        address = public_address(host, port)
        status, location, media_type, data = _get(scheme, host, port, address, url, max_bytes, timeout)
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        if status != 200:
            raise BookError(f"'{url[:200]}': the server answered {status}")
        return RemoteResource(url, data, media_type)
    raise BookError(f"'{url[:200]}': too many redirects")


def _get(scheme: str, host: str, port: int, address: str, url: str, max_bytes: int,
         timeout: float) -> tuple[int, str | None, str, bytes]:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _connection(scheme, host, port, address, timeout)
    try:
        connection.request("GET", path, headers={"Host": parts.netloc.rsplit("@", 1)[-1],
                                                 "User-Agent": "bookbuild", "Accept-Encoding": "identity"})
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise BookError(f"'{url[:200]}' is larger than {max_bytes:,} bytes: not fetched")
        data = _read_capped(response, url, max_bytes, time.monotonic() + timeout)
        media_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        return response.status, response.getheader("Location"), media_type, data
    except (OSError, http.client.HTTPException) as exc:
        raise BookError(f"'{url[:200]}' could not be fetched: {exc}") from None
    finally:
        connection.close()


def _read_capped(response: http.client.HTTPResponse, url: str, max_bytes: int, deadline: float) -> bytes:
    """The body, refusing more than ``max_bytes`` or a server that drips past the deadline."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise BookError(f"'{url[:200]}' is larger than {max_bytes:,} bytes: not fetched")
        if time.monotonic() > deadline:
            raise BookError(f"'{url[:200]}' took too long to fetch")
        chunks.append(chunk)
    return b"".join(chunks)


def _connection(scheme: str, host: str, port: int, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to the checked ``address`` (TLS still verifies ``host``'s certificate)."""

    class Pinned(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.create_connection((address, port), timeout)

    class PinnedTLS(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection((address, port), timeout)
            self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host)

    cls = PinnedTLS if scheme == "https" else Pinned
    return cls(host, port, timeout=timeout)
