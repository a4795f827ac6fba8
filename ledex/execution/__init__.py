"""Programs as sandbox jobs, and what their verdicts say: feedback, severity, hallucination."""
