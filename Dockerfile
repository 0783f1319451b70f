# Multi-stage build of booking-server. Not exercised by the tests (no Docker engine on our build machines).
FROM swift:6.2-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Benchmarks ./Benchmarks
COPY Tests ./Tests
RUN swift build -c release --product booking-server --static-swift-stdlib \
    && mkdir /out && cp "$(swift build -c release --show-bin-path)/booking-server" /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 --home /data booking && mkdir /data && chown booking /data
COPY --from=build /out/ /app/
USER booking
WORKDIR /data
ENV BOOKING_HOST=0.0.0.0 BOOKING_PORT=4000
EXPOSE 4000
ENTRYPOINT ["/app/booking-server"]
CMD ["serve"]
