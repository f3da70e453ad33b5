"""Research analyses built on fftconv's public API (never imported by fftconv itself)."""
