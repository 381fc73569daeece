# syntax=docker/dockerfile:1
# Kurator's image: one image, three processes (`kurator migrate`, `kurator worker`,
# `kurator api`; the API by default). docker-compose.yml builds and runs it.

ARG PYTHON_IMAGE=python:3.11-slim

# Build: Kurator and its runtime dependencies (no dev or test extras) in a virtualenv.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/kurator
WORKDIR /src
# .dockerignore lets in only pyproject.toml, the README and the packages.
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip /opt/kurator/bin/pip install .

# Run: the virtualenv alone, as an unprivileged user.
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 kurator \
    && useradd --system --uid 10001 --gid kurator --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin kurator \
    && install -d -o kurator -g kurator -m 0750 /var/lib/kurator/audit
COPY --from=build /opt/kurator /opt/kurator
# /var/lib/kurator/audit: the audit anchor log's folder, which a named volume mounted there
# takes its owner from.
COPY deploy/worker_healthcheck.py /opt/kurator/worker_healthcheck.py
ENV PATH=/opt/kurator/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KURATOR_API_HOST=0.0.0.0 \
    KURATOR_API_PORT=8000 \
    KURATOR_LOG_FORMAT=json
WORKDIR /opt/kurator
USER kurator
EXPOSE 8000
ENTRYPOINT ["kurator"]
CMD ["api"]
