# The two commands a fresh machine needs: `make run` (the main job) and `make test`.
# Both create or update .venv and install what they need first (scripts/bootstrap.sh).
.PHONY: run test

run:
	@scripts/bootstrap.sh models
	.venv/bin/ledex run

test:
	@scripts/bootstrap.sh dev
	.venv/bin/python -m pytest -n 2 -q
