# SPDX-License-Identifier: MIT
"""A pass/fail counter for the Python tests: check(cond, what) counts, prints the first failures
to stderr and returns cond; summary() is the "N passed, N failed" line."""
import sys


class Checker:
    def __init__(self, max_print=40):
        self.passed = self.failed = 0
        self.max_print = max_print

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= self.max_print:
                print("FAIL:", what, file=sys.stderr)
        return cond

    def summary(self):
        return "%d passed, %d failed" % (self.passed, self.failed)
