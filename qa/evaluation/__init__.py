"""Evaluation: question sets, scoring, reports and the fitted decision.

``questions`` reads eval_questions.yaml and SQuAD files; ``evaluate`` scores answers;
``report`` summarises them; ``signals`` keeps each answer's signals and ``calibrate`` fits the
decision on them; ``savetest`` turns a reviewed answer into a test; ``generate`` (with
``draw``, ``spans`` and ``unanswerable``) makes a question set from an index's own documents.
"""
