# pipeshare: the server and its browser app in a small runtime image.
#   docker build -t pipeshare .
#   docker run -p 3000:3000 -v pipeshare-data:/data pipeshare
# Configured by environment: DATABASE_URL, PIPESHARE_ADDR, PIPESHARE_BASE_URL.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends binaryen \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# How the SQLite built into pipeshare is compiled.
COPY .cargo .cargo
COPY app app
COPY server server
COPY frontend frontend
COPY migrations migrations
COPY style style
COPY scripts scripts
RUN scripts/build-site --release \
 && cargo build --release --locked -p server --bin pipeshare

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data --create-home pipeshare
COPY --from=build /src/target/release/pipeshare /usr/local/bin/pipeshare
COPY --from=build /src/target/site /app/site
USER pipeshare
WORKDIR /data
ENV DATABASE_URL=sqlite:///data/pipeshare.db?mode=rwc \
    PIPESHARE_ADDR=0.0.0.0:3000 \
    LEPTOS_SITE_ROOT=/app/site \
    RUST_LOG=info
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PIPESHARE_ADDR##*:}/healthz" || exit 1
CMD ["pipeshare", "serve"]
