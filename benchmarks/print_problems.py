"""How long the command line takes to print a large run's problems (5,000 warnings, 100 errors).

    $ .venv/bin/python benchmarks/print_problems.py

Printing was once quadratic (`problem in report.warnings` for each problem):
5,100 problems under `-q` took 5.3 s on this project's 2-core machine; linear,
it takes about a millisecond.
"""

from __future__ import annotations

import contextlib
import io
import time

from feedpub import cli
from feedpub.build import Report
from feedpub.errors import Problem, Severity


def main() -> None:
    warnings = tuple(
        Problem(f"articles/a{number:05}.md", f"unknown key 'k{number % 7}' is ignored", 3,
                field=f"k{number % 7}", severity=Severity.WARNING)
        for number in range(5000)
    )  # fmt: skip
    errors = tuple(Problem(f"articles/b{number:05}.md", "bad date", 4) for number in range(100))
    report = Report(problems=warnings + errors, files=5100, articles=5000, published=5000,
                    groups=())  # fmt: skip
    for quiet, verbose in ((True, False), (False, False), (False, True)):
        with contextlib.redirect_stderr(io.StringIO()):
            start = time.perf_counter()
            cli._print_problems(report, quiet, verbose)
            elapsed = time.perf_counter() - start
        print(f"quiet={quiet!s:5} verbose={verbose!s:5} {elapsed * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
