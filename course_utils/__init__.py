"""Shared helpers for the CNN course notebooks.

Importing this package is cheap: TensorFlow is only imported by the functions that need it,
so :func:`setup_notebook` can configure logging and threads before TensorFlow starts.
"""

from course_utils.setup import scaled, setup_notebook

__all__ = ["scaled", "setup_notebook"]
__version__ = "0.1.0"
