# The demo, stage by stage, and the tests. The tools are built with `make build`
# (cargo build --release); the stages and the demo then run them:
#
#   make build && sudo make demo     # the whole demo on the local lab (root)
#   make etape3 RUN_DIR=run          # one stage (the lab, or INVENTORY=file)
#   make test                        # every test (as root: the lab and demo tests too)
#
# RUN_DIR (default run) is the run folder; INVENTORY, for the provisioning
# stages (1, 3, 5), an inventory instead of the lab's.

RUN_DIR ?= run
INVENTORY ?=
CARGO ?= cargo
LAB_STATE ?= /run/nomad-demo-lab

inventory = $(if $(INVENTORY),--inventory $(INVENTORY))

.PHONY: build etape1 etape2 etape3 etape4 etape5 demo test demo-test lab-test lab-down

build:
	$(CARGO) build --release

etape1:
	scripts/etape1-init --run-dir $(RUN_DIR) $(inventory)

etape2:
	scripts/etape2-run --run-dir $(RUN_DIR)

etape3:
	scripts/etape3-extend --run-dir $(RUN_DIR) $(inventory)

etape4:
	scripts/etape4-update --run-dir $(RUN_DIR)

etape5:
	scripts/etape5-federate --run-dir $(RUN_DIR) $(inventory)

demo:
	scripts/demo --run-dir $(RUN_DIR)

test:
	scripts/test

demo-test:
	scripts/demo-test

lab-test:
	scripts/lab-test

lab-down:
	scripts/lab down --state $(LAB_STATE)
