# Two commands do everything:  `make lab` (the course)  and  `make test` (every test).
# Both create .venv on first use, and rebuild it only when constraints.txt or pyproject.toml change.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# the same hash as `cat constraints.txt pyproject.toml | sha1sum`, from the standard library (macOS has no sha1sum)
PINS   := $(shell $(PYTHON) -c 'import hashlib; print(hashlib.sha1(b"".join(open(f, "rb").read() for f in ("constraints.txt", "pyproject.toml"))).hexdigest()[:12])')
STAMP  := $(VENV)/.pins-$(PINS)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
PORT   ?= 8888
NB     ?= 00_start_here.ipynb
APP_PORT ?= 8866

.PHONY: lab test unit notebooks app bench data weights clean student grading grade book slides

$(STAMP):
	@if [ -d $(VENV) ]; then echo "pins changed: rebuilding $(VENV)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[lab,test,imagenet,chem,instructor]'
	touch $(STAMP)

# `make lab` and `make app` are `python -m attrkit lab|app` (attrkit/__main__.py): the same on macOS and Windows
# without make. The token reaches Jupyter through the environment, never a command line (`ps` shows those);
# `make lab TOKEN=...` chooses it.
ifdef TOKEN
export JUPYTER_TOKEN := $(TOKEN)
endif

lab: $(STAMP)  ## start JupyterLab on the course (token on, 127.0.0.1 only)
	$(PY) -m attrkit lab --port $(PORT) --notebook $(NB)

# What nbval compares must not depend on the CPU: the notebooks run again with torch's vector ISA capped
# (ATEN_CPU_CAPABILITY=default and DNNL_MAX_CPU_ISA=SSE41 each change the low bits of IG and AGI here).
ANYCPU := ATEN_CPU_CAPABILITY=default DNNL_MAX_CPU_ISA=SSE41

test: $(STAMP)  ## unit tests, every notebook under nbval (twice: as is, and with the CPU's vector ISA capped), browser tests
	ATTRKIT_PROGRESS=0 $(PY) -m pytest tests $(NBVAL) notebooks
	ATTRKIT_PROGRESS=0 $(ANYCPU) $(PY) -m pytest -p no:cacheprovider $(NBVAL) notebooks

app: $(STAMP)  ## instructor mode: one notebook as a clean Voilà app on 127.0.0.1 (token required)
	$(PY) -m attrkit app notebooks/$(NB) --port $(APP_PORT)

student: $(STAMP)  ## student release: solutions out, answer outputs cleared, checks record (build/student)
	$(PY) -m attrkit student --out build/student

grading: $(STAMP)  ## nbgrader course: autograded code exercises with points (build/grading)
	$(PY) scripts/grading_release.py --course build/grading

grade: $(STAMP)  ## grade one student: make grade SUB="ada/*.ipynb" STUDENT=ada
	$(PY) scripts/grade.py $(SUB) --student $(or $(STUDENT),student) --course build/grading

book: $(STAMP)  ## static website of the executed course (build/book/_build/html); SOLUTIONS=fold folds them in
	$(PY) scripts/build_book.py --out build/book --solutions $(or $(SOLUTIONS),exclude)

slides: $(STAMP)  ## one reveal.js deck per notebook, offline (build/slides)
	$(PY) scripts/build_slides.py --out build/slides

unit: $(STAMP)
	ATTRKIT_PROGRESS=0 $(PY) -m pytest tests

notebooks: $(STAMP)  ## re-execute every notebook in place (commit them executed)
	for nb in notebooks/[0-9]*.ipynb; do \
		ATTRKIT_PROGRESS=0 $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

bench: $(STAMP)
	$(PY) -m bench.ig
	$(PY) -m bench.agi
	$(PY) -m bench.widgets
	$(PY) -m bench.imagenet --repeats 2

weights: $(STAMP)  ## retrain every shipped model (deterministic)
	$(PY) scripts/train_zoo.py
	$(PY) scripts/train_sequence.py

clean:
	rm -rf $(VENV) .pytest_cache
