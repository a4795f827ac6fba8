# The two commands a fresh machine needs: `make run` (the main job) and `make test`.
# Both create or update .venv and install what they need first (scripts/bootstrap.sh).
.PHONY: run test bootstrap

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	.venv/bin/ledex run

test: bootstrap
	.venv/bin/python -m pytest -n 2 -q
