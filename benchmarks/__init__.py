"""asv benchmarks of fftconv (run with ``make bench``; see asv.conf.json)."""
