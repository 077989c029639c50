"""Route the SDKs' HTTP traffic through an ``httpx.AsyncClient`` (so respx can mock it).

Both official SDKs send requests with the ``httpx2`` package, which respx does not
intercept. :func:`bridged_client` wraps a plain ``httpx.AsyncClient`` in an
``httpx2.AsyncClient`` whose transport forwards every request to it; pass that
to the SDK and everything respx patches on the ``httpx`` side applies.
"""

from __future__ import annotations

import httpx
import httpx2

_DECODED = {"content-encoding", "content-length", "transfer-encoding"}


class HttpxBridge(httpx2.AsyncBaseTransport):
    """An httpx2 transport that performs each request with an ``httpx.AsyncClient``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        try:
            response = await self.client.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                content=body,
            )
        except httpx.TimeoutException as exc:
            raise httpx2.ReadTimeout(str(exc), request=request) from exc
        except httpx.TransportError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DECODED]
        return httpx2.Response(
            response.status_code, headers=headers, content=response.content, request=request
        )

    async def aclose(self) -> None:
        await self.client.aclose()


def bridged_client(client: httpx.AsyncClient, timeout: float) -> httpx2.AsyncClient:
    """An httpx2 client for the SDKs that sends everything through ``client``."""
    return httpx2.AsyncClient(transport=HttpxBridge(client), timeout=timeout)
