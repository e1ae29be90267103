# The service image: the package and its locked dependencies, without the embedded
# servers (compose.yaml brings a real Postgres and Redis).
FROM python:3.11-slim

COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /app

COPY pyproject.toml uv.lock README.md LICENSE ./
RUN uv sync --frozen --no-dev --no-install-project
COPY leaderboard ./leaderboard
COPY db ./db
RUN uv sync --frozen --no-dev

ENV PATH=/opt/venv/bin:$PATH
RUN useradd --system --create-home leaderboard && mkdir -p /var/lib/leaderboard \
    && chown leaderboard /var/lib/leaderboard
USER leaderboard
EXPOSE 8000
CMD ["leaderboard", "serve", "--host", "0.0.0.0"]
