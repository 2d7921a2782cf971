# Two commands do everything:  `make lab` (the course)  and  `make test` (every test).
# Both create .venv on first use, and rebuild it only when constraints.txt or pyproject.toml change.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PINS   := $(shell cat constraints.txt pyproject.toml | sha1sum | cut -c1-12)
STAMP  := $(VENV)/.pins-$(PINS)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
PORT   ?= 8888
NB     ?= 00_start_here.ipynb
APP_PORT ?= 8866

.PHONY: lab test unit notebooks app bench data weights clean

$(STAMP):
	@if [ -d $(VENV) ]; then echo "pins changed: rebuilding $(VENV)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[lab,test]'
	touch $(STAMP)

lab: $(STAMP)  ## start JupyterLab on the course (token on, 127.0.0.1 only)
	@t=$${TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(24))')}; \
	echo "attrkit course: open http://127.0.0.1:$(PORT)/lab/tree/$(NB)?token=$$t"; \
	cd notebooks && exec ../$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) --IdentityProvider.token=$$t \
		$(if $(DISPLAY),,--no-browser) $(if $(filter 0,$(shell id -u)),--allow-root) $(NB)

test: $(STAMP)  ## unit tests, every notebook under nbval, browser tests
	ATTRKIT_PROGRESS=0 $(PY) -m pytest tests $(NBVAL) notebooks

app: $(STAMP)  ## instructor mode: one notebook as a clean Voilà app on 127.0.0.1 (token required)
	@t=$${TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(16))')}; \
	echo "open http://127.0.0.1:$(APP_PORT)/?token=$$t"; \
	exec $(VENV)/bin/voila --no-browser --Voila.ip=127.0.0.1 --port=$(APP_PORT) --Voila.port_retries=0 \
		--Voila.token=$$t notebooks/$(NB)

unit: $(STAMP)
	ATTRKIT_PROGRESS=0 $(PY) -m pytest tests

notebooks: $(STAMP)  ## re-execute every notebook in place (commit them executed)
	for nb in notebooks/[0-9]*.ipynb; do \
		ATTRKIT_PROGRESS=0 $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

bench: $(STAMP)
	$(PY) -m bench.ig
	$(PY) -m bench.agi
	$(PY) -m bench.widgets

weights: $(STAMP)  ## retrain every shipped model (deterministic)
	$(PY) scripts/train_zoo.py

clean:
	rm -rf $(VENV) .pytest_cache
