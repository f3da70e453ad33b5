"""``fftconv demo``: the main job on embedded defaults, written up as an HTML report.

The pipeline lives in :mod:`analysis.demo` (imported lazily, so ``fftconv`` itself
never imports ``analysis``); this module only parses the options.
"""

from __future__ import annotations

import sys

from fftconv.commands.options import default_out, int_range, out_option, verbose_option

DEFAULT_OUT = default_out("demo")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="benchmark, train, analyse and report, on embedded defaults",
        description="Benchmark every backend on a small grid of layers (with 'auto''s "
                    "choices and a crossover figure), train LeNet-5 on the embedded "
                    "digits with the backend 'auto' picks, analyse the learned filters "
                    "in frequency and as propagators, find a template in a generated "
                    "scene, print LeNet-5's cost table, and write everything as one "
                    "HTML report (index.html and PNG figures). Progress goes to "
                    "standard error, the report's path to standard output.")
    out_option(p, "demo", "the report (index.html and its PNG figures)")
    p.add_argument("--quick", action="store_true",
                   help="smoke-test size: two layers, one repeat, one epoch (seconds)")
    p.add_argument("--seed", type=int_range(0), default=None,
                   help="seed of every random step (default: 0)")
    p.add_argument("--epochs", type=int_range(1), default=None,
                   help="LeNet-5 training epochs (default: 10; 1 with --quick)")
    p.add_argument("--repeats", type=int_range(1), default=None,
                   help="timed runs per backend and layer (default: 5; 1 with --quick)")
    p.add_argument("--threads", type=int_range(1), default=None,
                   help="BLAS/FFT threads for the benchmark (default: the libraries')")
    verbose_option(p, "the benchmark (per layer), training (per epoch) and the study "
                      "(per run)")
    p.set_defaults(func=run)


def run(args) -> int:
    from analysis import demo

    config = demo.QUICK if args.quick else demo.FULL
    changes = {name: getattr(args, name) for name in ("seed", "epochs", "repeats", "threads")
               if getattr(args, name) is not None}
    index = demo.run_demo(args.out, config, verbose=args.verbose,
                          log=lambda text: print(text, file=sys.stderr, flush=True)
                          if args.verbose else None, **changes)
    print(f"wrote {index}")
    return 0
