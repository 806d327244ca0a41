# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
BACKEND := backend
VENV := $(BACKEND)/.venv
PY := $(abspath $(VENV))/bin/python
UV_VERSION := 0.13.9
PYTEST_ARGS ?=

.PHONY: run test lint typecheck locks lock install browser bench clean

# The venv is rebuilt from the lock whenever the lock changes.
$(VENV)/.installed-dev: $(BACKEND)/requirements-dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	@$(PY) -m uv pip install -q --python $(PY) --require-hashes -r $(BACKEND)/requirements-dev.lock
	@touch $@

install: $(VENV)/.installed-dev

# Browser logins and the browser tests need a Chromium (system package or Playwright's own).
browser: install
	@$(BACKEND)/scripts/ensure_chromium.sh $(PY)

# A Chromium is prepared as for `make test`; where none can be had the service runs all the
# same, and its platforms API and page say browser login is unavailable, and why.
run: install
	@$(BACKEND)/scripts/ensure_chromium.sh $(PY) || echo "Browser logins are unavailable on this machine (see above)." >&2
	cd $(BACKEND) && $(PY) scripts/init_db.py && $(PY) scripts/init_oauth_platforms.py --only-missing
	cd $(BACKEND) && $(PY) -m uvicorn app.main:app --host $(HOST) --port $(PORT)

# The tests in two parts, each naming its 15 slowest: most on two workers (pytest-xdist; a
# module stays on one, its fixtures are built once), then
# those marked `serial` (they time what they check or load the machine) alone. Exit code 5 is
# pytest's "no test collected" (PYTEST_ARGS may select none of a part).
PYTEST_PARTS := $(PY) -m pytest --durations=15
test: install lint typecheck locks browser
	cd $(BACKEND) && { $(PYTEST_PARTS) -n 2 --dist loadscope -m "not serial" $(PYTEST_ARGS) || test $$? -eq 5; }
	cd $(BACKEND) && { $(PYTEST_PARTS) -m serial $(PYTEST_ARGS) || test $$? -eq 5; }

lint: install
	cd $(BACKEND) && $(PY) -m ruff check . && $(PY) -m ruff format --check .

# The call path side by side with LiteLLM proxy and the upstream (docs/performance.md).
# nginx and wrk come from Debian; LiteLLM proxy from its own lock, in its own venv.
BENCH_ARGS ?=
LITELLM_PROXY_VENV := $(BACKEND)/bench/.venv-litellm-proxy

$(LITELLM_PROXY_VENV)/.installed: $(BACKEND)/bench/litellm-proxy.lock $(VENV)/.installed-dev
	@test -x $(LITELLM_PROXY_VENV)/bin/python || $(PYTHON) -m venv $(LITELLM_PROXY_VENV)
	@$(PY) -m uv pip install -q --python $(LITELLM_PROXY_VENV)/bin/python --require-hashes -r $<
	@touch $@

bench: install $(LITELLM_PROXY_VENV)/.installed
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null && command -v wrk >/dev/null || \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light wrk; }
	cd $(BACKEND) && $(PY) bench/bench_call_path.py $(BENCH_ARGS)

# mypy, strict, on app/ (configured in backend/pyproject.toml).
typecheck: install
	cd $(BACKEND) && $(PY) -m mypy

# The locks match backend/pyproject.toml (`make lock` rewrites them).
locks: install
	$(BACKEND)/scripts/check_locks.sh $(PY)

# Re-resolve the locks after editing backend/pyproject.toml.
lock: install
	cd $(BACKEND) && $(PY) -m uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements.lock
	cd $(BACKEND) && $(PY) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements-dev.lock

clean:
	rm -rf $(VENV)
