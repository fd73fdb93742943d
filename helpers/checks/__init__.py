"""Self-checks for the exercises: each tests a student's object and prints a verdict with a hint.

Every check prints ``PASSED: what`` or ``NOT YET: what — hint`` (one line) and returns a
:class:`Verdict` (true or false). It does not stop the notebook on a wrong answer, a crash, a wrong
return value or a loop that never ends (:mod:`helpers.checks.core` guards the student's code) --
except for an unfinished exercise: ``NotImplementedError`` is re-raised, so "Run all" stops at the
first exercise left to do.

The modules:

- ``core`` -- the machinery and the generic checks (``check_output_shape``,
  ``check_parameter_count``...);
- ``own`` -- ``yours_or_course``: the student's code runs the experiment when it passes its check;
- ``nb01``, ``nb02``, ``nb03``, ``nb04``, ``nb05`` -- the checks of each notebook, built from
  ``core``.

All checks are available as ``checks.NAME``.
"""

from helpers.checks.core import (TIME_LIMIT, NotYet, Verdict, all_of, check_function_on_examples,
                                 check_loss_decreases, check_nonlinear, check_output_shape,
                                 check_parameter_count, hint, pair, report, returned, run)
from helpers.checks.nb01 import check_mlp, check_points_dataset, check_polar, check_train_one_epoch
from helpers.checks.nb02 import (check_digits_cnn, check_digits_design, check_early_stopping,
                                 check_nll, check_reshape_flatten)
from helpers.checks.nb03 import (check_confusion_matrix, check_conv_output_size,
                                 check_layer_parameters, check_mnist_design, check_mnist_mlp)
from helpers.checks.nb04 import (check_channel_stats, check_random_shift, check_svhn_design,
                                 check_validation_split)
from helpers.checks.own import yours_or_course
from helpers.checks.nb05 import (check_leak_free_split, check_time_to_accuracy, check_vgg_features,
                                 check_weights_roundtrip)
