# The two commands a fresh machine needs: `make run` (the main job) and `make test`.
# Both create or update .venv and install what they need first (scripts/bootstrap.sh).
.PHONY: run test lint

run:
	@scripts/bootstrap.sh models
	.venv/bin/ledex run

test: lint
	.venv/bin/python -m pytest -n 2 -q

lint:
	@scripts/bootstrap.sh dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
