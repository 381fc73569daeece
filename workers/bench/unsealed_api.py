"""The API as `kurator bench --no-seal --api-process` runs it in a child: like `kurator api`,
but talking to Temporal in plain JSON, so that the bench can measure what sealing costs. A
bench-only entry point: no setting turns sealing off in the real processes."""

import uvicorn

from api.app import create_app
from infra.collector import tune_collector
from models.settings import get_settings


def main() -> None:
    settings = get_settings()
    app = create_app(settings, seal_payloads=False)
    tune_collector()  # as `kurator api`, so that the two differ only in sealing
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)


if __name__ == "__main__":
    main()
