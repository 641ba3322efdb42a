"""What operators watch: Prometheus metrics (/metrics) and structured JSON logs with a request id."""
