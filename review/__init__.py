"""Expert review of the model's explanations and refinements (the industrial RLHF feedback loop).

A web app where signed-in reviewers grade, vote on, flag and correct the refinements the
pipeline produced; a database that keeps every judgment; and the weekly export that turns the
judgments into preference pairs for `reward-fit` and demonstrations for `sft`. docs/review.md.
"""
