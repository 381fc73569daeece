"""The bench's lean HTTP client reads a streamed (chunked) GET answer piece by piece, as the
audit timings read an export, and a plain one whole."""

import asyncio

from workers.bench.http import lean_http

CHUNKS = [b'{"seq":1}\n', b'{"seq":2}\n{"seq":3}\n', b'{"seq":4}\n']


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        request = await reader.readuntil(b"\r\n\r\n")
        if request.startswith(b"GET /stream "):
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for chunk in CHUNKS:
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            writer.write(b"0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
        await writer.drain()


async def test_get_streams_a_chunked_answer_and_reads_a_plain_one() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with lean_http(f"http://127.0.0.1:{port}", size=1, request_seconds=10) as http:
            received: list[bytes] = []
            status, body = await http.get("/stream", {}, sink=received.append)
            assert (status, body) == (200, b"")
            assert received == CHUNKS
            # The same kept-alive connection serves the next request, read whole.
            assert await http.get("/stream", {}) == (200, b"".join(CHUNKS))
            assert await http.get("/missing", {"X-Purpose": "audit"}) == (404, b"not found")
    finally:
        server.close()
        await server.wait_closed()
