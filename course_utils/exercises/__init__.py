"""Exercise checks, one module per notebook: ``nb01`` for 01_cnn_basics, and so on.

In a notebook: ``from course_utils.exercises import nb01 as checks``, then
``checks.exercise_1.check(my_function)``, ``checks.exercise_1.hint()``,
``checks.exercise_1.solution()``.
"""
