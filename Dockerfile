# One image for both roles: the web app (the default command) and demo workers
# (`backprop worker`, see docker-compose.yml and docs/TEAM.md).
# CPU by default. For CUDA (GPU workers):
#   docker build --build-arg BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 \
#                --build-arg TORCH_PIP_ARGS= -t backprop:cuda .
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# The CPU wheel index; empty it for the CUDA build from PyPI.
ARG TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
ARG TORCH_SPEC="torch==2.13.0"

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    BACKPROP_HOST=0.0.0.0 BACKPROP_PORT=8000 BACKPROP_ENVIRONMENT=production \
    BACKPROP_DATA_DIR=/app/data

# bubblewrap sandboxes demo runs; a CUDA base image also needs Python itself.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make bubblewrap curl \
 && (command -v python3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv) \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 backprop

WORKDIR /app
# Dependencies first, for the layer cache; the same `make setup` the README uses.
COPY pyproject.toml requirements.lock README.md Makefile ./
COPY app/__init__.py app/__init__.py
RUN make setup TORCH_SPEC="${TORCH_SPEC}" TORCH_PIP_ARGS="${TORCH_PIP_ARGS}" PROJECT_SPEC=.
COPY . .
RUN touch .venv/.installed && mkdir -p /app/data && chown -R backprop:backprop /app/data

USER backprop
EXPOSE 8000
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
# Alone (SQLite): migrations and the content import run at start, then the server, as
# `make run` does. With docker-compose.yml: `backprop serve` / `backprop worker`, after a
# one-shot `backprop db upgrade && backprop import`.
CMD [".venv/bin/backprop", "start"]
