"""Evaluation: question sets, scoring, reports and the fitted decision.

``questions`` reads eval_questions.yaml and SQuAD files; ``evaluate`` scores answers;
``report`` summarises them; ``signals`` keeps each answer's signals and ``calibrate`` fits the
decision on them; ``savetest`` turns a reviewed answer into a test.
"""
