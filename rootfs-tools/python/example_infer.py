#!/usr/bin/env python3
"""The README's example model script ("Profile your own model script"): a small pure-Python
two-layer network, marked with cgprof_phase so cgprof reports model load and per-inference
latency separately. No dependencies: runs in any image with python3.

Usage: python3 example_infer.py [--inferences N] [--width W]"""
import argparse
import random

from cgprof_phase import cgprof_phase


def load_model(width):
    rng = random.Random(42)
    return [[[rng.uniform(-1, 1) for _ in range(width)] for _ in range(width)] for _ in range(2)]


def infer(model, x):
    for layer in model:
        x = [max(0.0, sum(w * v for w, v in zip(row, x))) for row in layer]
    return max(range(len(x)), key=x.__getitem__)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--inferences", type=int, default=20)
    p.add_argument("--width", type=int, default=160)
    a = p.parse_args()
    with cgprof_phase("load"):
        model = load_model(a.width)
    rng = random.Random(7)
    classes = []
    for _ in range(a.inferences):
        x = [rng.uniform(0, 1) for _ in range(a.width)]
        with cgprof_phase("infer"):
            classes.append(infer(model, x))
    print("example-infer: inferences=%d width=%d classes=%s" % (a.inferences, a.width,
                                                                ",".join(map(str, classes[:5]))))


if __name__ == "__main__":
    main()
