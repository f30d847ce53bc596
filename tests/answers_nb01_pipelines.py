"""Answer tables of notebook 01's exercises 7 (input pipelines) and 8 (early stopping).

Read by tests/test_exercise_answers.py. Each wrong answer is a pipeline or callback a learner
might write; the piece of text is what the check must say about it (and, for the named mistakes,
no other mistake's explanation).
"""

from __future__ import annotations


def _tf():
    import tensorflow as tf

    return tf


def _pipelines(
    *,
    train_steps=("cache", "shuffle", "batch", "augment", "prefetch"),
    val_steps=("batch", "cache", "prefetch"),
    shuffle_buffer=1000,
    reshuffle=True,
    training=None,
    swap=False,
):
    """make_pipelines built from a list of steps, in order, for each pipeline."""

    def apply(dataset, steps, augment, batch_size):
        tf = _tf()
        for step in steps:
            if step == "cache":
                dataset = dataset.cache()
            elif step == "shuffle":
                dataset = dataset.shuffle(shuffle_buffer, reshuffle_each_iteration=reshuffle)
            elif step == "batch":
                dataset = dataset.batch(batch_size)
            elif step == "augment":
                if training is None:
                    dataset = dataset.map(lambda x, y: (augment(x), y))
                else:
                    dataset = dataset.map(lambda x, y: (augment(x, training=training), y))
            elif step == "prefetch":
                dataset = dataset.prefetch(tf.data.AUTOTUNE)
            elif step == "batch32":
                dataset = dataset.batch(32)
            elif step == "repeat":
                dataset = dataset.repeat()
            else:
                raise ValueError(step)
        return dataset

    def make_pipelines(train_ds, val_ds, augment, batch_size):
        train = apply(train_ds, train_steps, augment, batch_size)
        val = apply(val_ds, val_steps, augment, batch_size)
        return (val, train) if swap else (train, val)

    return make_pipelines


NAMED_MISTAKES = [
    ("nb01", 7, _pipelines(val_steps=("batch", "augment", "prefetch")), "the validation images are augmented"),
    ("nb01", 7, _pipelines(val_steps=("shuffle", "batch", "prefetch")), "the validation pipeline shuffles"),
    ("nb01", 7, _pipelines(training=False), "the training images come out unchanged"),
    ("nb01", 7, _pipelines(train_steps=("batch", "augment", "cache", "shuffle", "prefetch")),
     "cache() after the augmentation stores one set"),
    ("nb01", 7, _pipelines(train_steps=("cache", "batch", "augment", "prefetch")), "never shuffles"),
    ("nb01", 7, _pipelines(train_steps=("shuffle", "cache", "batch", "augment", "prefetch")),
     "cache() after shuffle() stores the first epoch's order"),
    ("nb01", 7, _pipelines(shuffle_buffer=1), "a shuffle buffer of 1"),
    ("nb01", 7, _pipelines(train_steps=("cache", "batch", "shuffle", "augment", "prefetch")),
     "which shuffles whole batches"),
    ("nb01", 7, _pipelines(train_steps=("shuffle", "batch", "augment", "prefetch")), "has no cache()"),
    ("nb01", 7, _pipelines(train_steps=("cache", "shuffle", "batch", "augment")), "no prefetch(tf.data.AUTOTUNE) after batch()"),
    ("nb01", 7, _pipelines(swap=True), "the wrong way round"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS = [
    # augment each image before batching, with training=True spelled out, and no cache on validation
    ("nb01", 7, _pipelines(train_steps=("cache", "shuffle", "augment", "batch", "prefetch"), training=True,
                           val_steps=("batch", "prefetch"))),
    # the shuffle buffer as large as the training set, validation cached before batching
    ("nb01", 7, _pipelines(shuffle_buffer=24, val_steps=("cache", "batch", "prefetch"))),
]  # fmt: skip


def _parallel_map(train_ds, val_ds, augment, batch_size):
    tf = _tf()
    train = (train_ds.cache().shuffle(train_ds.cardinality()).batch(batch_size)
             .map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
             .prefetch(1))  # fmt: skip
    return [train, val_ds.batch(batch_size)]


def _prefetch_with_options(train_ds, val_ds, augment, batch_size):
    tf = _tf()
    options = tf.data.Options()
    options.deterministic = False
    train = (train_ds.cache().shuffle(1000).batch(batch_size).map(lambda x, y: (augment(x), y))
             .prefetch(tf.data.AUTOTUNE).with_options(options))  # fmt: skip
    return train, val_ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


OTHER_RIGHT_ANSWERS += [("nb01", 7, _parallel_map), ("nb01", 7, _prefetch_with_options)]

OWN_WRONG_ANSWERS = [
    ("nb01", 7, _pipelines(train_steps=("cache", "shuffle", "batch", "augment", "prefetch", "repeat")), "repeats forever"),
    ("nb01", 7, _pipelines(train_steps=("cache", "shuffle", "augment", "prefetch")), "batch it"),
    ("nb01", 7, _pipelines(train_steps=("cache", "shuffle", "batch32", "augment", "prefetch")), "use the batch_size argument"),
    ("nb01", 7, _pipelines(train_steps=("cache", "batch", "augment", "shuffle", "prefetch")), "which shuffles whole batches"),
    ("nb01", 7, _pipelines(train_steps=("augment", "cache", "shuffle", "batch", "prefetch")),
     "cache() after the augmentation stores one set"),
    ("nb01", 7, _pipelines(val_steps=("shuffle", "batch", "augment", "prefetch")), "the validation images are augmented"),
    ("nb01", 7, _pipelines(reshuffle=False), "reshuffle_each_iteration=False"),
    ("nb01", 7, _pipelines(train_steps=("cache", "shuffle", "prefetch", "batch", "augment")),
     "no prefetch(tf.data.AUTOTUNE) after batch()"),
    ("nb01", 7, lambda train_ds, val_ds, augment, batch_size: train_ds.batch(batch_size), "return two tf.data.Dataset"),
]  # fmt: skip


# --- exercise 8: early stopping that keeps the best epoch ----------------------------------------


def _stopper(**settings):
    def make_early_stopping():
        import keras

        return keras.callbacks.EarlyStopping(**{"monitor": "val_loss", "patience": 3, "restore_best_weights": True,
                                                 **settings})  # fmt: skip

    return make_early_stopping


NAMED_MISTAKES += [
    ("nb01", 8, _stopper(monitor="loss"), "it monitors a training metric ('loss')"),
    ("nb01", 8, _stopper(monitor="val_accuracy"), "the task asks for the validation loss"),
    ("nb01", 8, _stopper(restore_best_weights=False), "keeps the weights of the last epoch"),
    ("nb01", 8, _stopper(patience=1), "patience=1: it waits"),
    ("nb01", 8, _stopper(mode="max"), "treats a higher validation loss as better"),
]

OTHER_RIGHT_ANSWERS += [
    ("nb01", 8, lambda: __import__("tensorflow").keras.callbacks.EarlyStopping(
        patience=3, restore_best_weights=True, mode="min")),  # the default monitor, tf.keras spelling
    ("nb01", 8, _stopper(min_delta=0.001, verbose=0)),
]  # fmt: skip

OWN_WRONG_ANSWERS += [
    ("nb01", 8, _stopper(patience=10), "patience=10"),
    ("nb01", 8, lambda: __import__("keras").callbacks.EarlyStopping, "returned the class"),
    ("nb01", 8, lambda: __import__("keras").callbacks.ReduceLROnPlateau(patience=3), "return a keras.callbacks.EarlyStopping(...) object, as the task asks"),
    ("nb01", 8, _stopper(monitor="accuracy"), "it monitors a training metric ('accuracy')"),
]  # fmt: skip
