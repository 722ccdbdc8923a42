"""A learner's progress in a module, and the path a score takes to the gradebook.

``completion.py`` holds the completion rules and the progress writes: a learner's
progress row, the pages opened and marked complete, applying the module's rule
(``refresh_completion``) and the score to post. ``attempts.py`` holds quiz
attempts: start (or resume), save and submit, and the items a submit stores. The queries
both run are methods of the models (:mod:`lms_plugin.models.progress`,
:mod:`lms_plugin.models.sections`, :mod:`lms_plugin.models.content`). No Flask
here: views pass in the user, context and resource link of the launch.

A score's path, each step calling only the next:

1. the learner's submit (``lms_plugin.learner``) calls
   :func:`~.attempts.submit_attempt`, which scores and closes the attempt and
   stores its items;
2. :func:`~.completion.record_attempt` updates the learner's progress, applies
   the module's completion rule and works out the kept score
   (:func:`~.completion.score_to_post`); a module without a quiz gets full credit
   when completed;
3. :func:`lms_plugin.passback.enqueue_score` queues it in the outbox, in the same
   transaction as the attempt (all or nothing);
4. later, a sender (``lms_plugin.passback.sender``) claims the row and posts
   :func:`lms_plugin.lti.services.ags.score_document` to the platform over AGS.
"""
