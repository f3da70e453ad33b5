"""``fftconv demo``: the main job on embedded defaults.

For now it benchmarks the backends on the built-in layer table; later issues add
training, filter analysis, template matching and the HTML report.
"""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the main job on embedded defaults",
                              description="Benchmark every backend on a small table of "
                                          "typical layers and print the table.")
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import available_backends
    from ..bench import DEFAULT_LAYERS, format_table, run_layer_bench

    print(f"fftconv demo: timing backends {', '.join(available_backends())} "
          f"on {len(DEFAULT_LAYERS)} layers (float32, forward)")
    print(format_table(run_layer_bench(DEFAULT_LAYERS, repeats=args.repeats)))
    return 0
