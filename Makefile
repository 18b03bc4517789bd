# Mediaqueue: `make run` starts everything on one machine, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-smoke lint format migrate worker beat web bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## web + worker + beat, with Redis (started if none answers) and an admin user
	$(BIN)/python -m config.localrun

test: $(STAMP)  ## the whole suite; DATABASE_URL picks the database (default SQLite)
	$(BIN)/pytest -q

test-smoke: $(STAMP)  ## a quick pass: no worker processes
	$(BIN)/pytest -q -m "not integration"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/python manage.py migrate

web: $(STAMP)
	$(BIN)/python manage.py runserver 0.0.0.0:8000

worker: $(STAMP)
	$(BIN)/celery -A config worker -l info -Q high,medium,low,default,video,maintenance --prefetch-multiplier 1

beat: $(STAMP)
	$(BIN)/celery -A config beat -l info

bench: $(STAMP)
	$(BIN)/python bench/jobs.py

clean:
	rm -rf $(VENV) var
