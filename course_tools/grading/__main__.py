"""``python -m course_tools.grading``: see :mod:`course_tools.grading.cli`."""

import sys

from course_tools.grading.cli import main

sys.exit(main())
