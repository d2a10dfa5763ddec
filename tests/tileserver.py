"""A real HTTP tile server on 127.0.0.1 for the map's tests: it answers ``/{z}/{x}/{y}.png``
with a 256-pixel PNG (a colour per tile, its address written on it) and records every
request with its User-Agent; paths under ``/missing`` are 404s."""

from __future__ import annotations

import http.server
import io
import threading
import zlib

from PIL import Image, ImageDraw


def tile_png(path: str) -> bytes:
    hue = zlib.crc32(path.encode()) & 0xFFFFFF
    colour = (200 + (hue & 0x1F), 215 + ((hue >> 8) & 0x1F), 190 + ((hue >> 16) & 0x1F))
    image = Image.new("RGB", (256, 256), colour)
    draw = ImageDraw.Draw(image)
    for i in range(0, 256, 32):           # a street-like grid, so a drawn tile is unmistakable
        draw.line([(i, 0), (i, 255)], fill=(255, 255, 255), width=3)
        draw.line([(0, i), (255, i)], fill=(255, 255, 255), width=3)
    draw.rectangle([0, 0, 255, 255], outline=(120, 120, 120))
    draw.text((10, 10), path, fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class TileServer:
    """Serves tiles until ``close()``; ``url`` is its address, ``requests`` what it got."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append((self.path, self.headers.get("User-Agent", "")))
                if self.path.startswith("/missing"):
                    self.send_error(404)
                    return
                body = tile_png(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        with self._lock:
            return [p for p, _ in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
