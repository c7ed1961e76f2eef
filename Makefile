# gatekeeper — GNU make.  `make help` lists the targets.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= /lib/systemd/system
DESTDIR	?=

CC	?= cc
PKG_CONFIG ?= pkg-config
CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wformat=2 -Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla \
	  -Wundef -Wnull-dereference -Werror
CPPFLAGS += -D_GNU_SOURCE
GK_VERSION = 0.2.0
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -DGK_VERSION='"$(GK_VERSION)"'

ifeq ($(SAN),1)
B	:= build/san
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=address,undefined
else
B	:= build
endif

LIBS_IO	 = $(shell $(PKG_CONFIG) --libs libmnl libnetfilter_queue libnfnetlink libnftnl libcap-ng libsystemd 2>/dev/null)
CFLAGS_IO = $(shell $(PKG_CONFIG) --cflags libmnl libnetfilter_queue libnfnetlink libnftnl libcap-ng libsystemd 2>/dev/null)
# The core's one library: libcrypto (SPA's cipher, hashes, HMAC, base64).
LIBS_CRYPTO = $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null)
LIBS_CHECK = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
CFLAGS_CHECK = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)

# The folders are the architecture, and the include paths enforce it:
#   src/core    pure decisions: libc and libcrypto, no I/O (unit tests,
#               fuzzers)
#   src/io      small I/O helpers every program shares (reading files)
#   src/daemon  gatekeeperd: kernel and process I/O around the core
#   src/ctl     gatekeeperctl
#   src/knock   gatekeeper-knock, the client
# A core file that includes an I/O header does not compile.
INC_core   = -Isrc/core
INC_io     = -Isrc/core -Isrc/io
INC_daemon = -Isrc/core -Isrc/io -Isrc/daemon
INC_ctl    = -Isrc/core -Isrc/io
INC_knock  = -Isrc/core -Isrc/io
INC_tests  = -Isrc/core -Isrc/io -Isrc/daemon

CORE_SRC = $(wildcard src/core/*.c)
IO_SRC	 = $(wildcard src/io/*.c)
DAEMON_SRC = $(wildcard src/daemon/*.c)
CORE	 = $(notdir $(CORE_SRC:.c=))
CORE_OBJ = $(CORE_SRC:src/%.c=$(B)/obj/%.o)
IO_OBJ	 = $(IO_SRC:src/%.c=$(B)/obj/%.o)
DAEMON_OBJ = $(DAEMON_SRC:src/%.c=$(B)/obj/%.o)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_OBJ = $(UNIT_SRC:tests/unit/%.c=$(B)/obj/tests/%.o)
HDRS	 = $(wildcard src/*/*.h)

DEB_PKGS = build-essential pkg-config libmnl-dev libnetfilter-queue-dev \
	   libnfnetlink-dev libnftnl-dev libcap-ng-dev libsystemd-dev libssl-dev \
	   check knockd fwknop-client fwknop-server netcat-openbsd nftables \
	   iptables iproute2 nmap tcpdump hping3 procps systemd python3

.PHONY: all check unit e2e demo bench systemd-verify deps deps-fuzz install \
	uninstall clean help
all: $(B)/gatekeeperd $(B)/gatekeeperctl $(B)/gatekeeper-knock

# V=1 shows the commands.
Q	:= $(if $(V),,@)

$(B)/obj/core/%.o: src/core/%.c $(HDRS) | $(B)/obj
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(INC_core) $(ALL_CFLAGS) -MMD -c -o $@ $<

$(B)/obj/io/%.o: src/io/%.c $(HDRS) | $(B)/obj
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(INC_io) $(ALL_CFLAGS) -MMD -c -o $@ $<

$(B)/obj/daemon/%.o: src/daemon/%.c $(HDRS) | $(B)/obj
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(INC_daemon) $(ALL_CFLAGS) -pthread $(CFLAGS_IO) -MMD -c -o $@ $<

$(B)/obj/ctl/%.o: src/ctl/%.c $(HDRS) | $(B)/obj
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(INC_ctl) $(ALL_CFLAGS) -MMD -c -o $@ $<

$(B)/obj/knock/%.o: src/knock/%.c $(HDRS) | $(B)/obj
	@$(if $(Q),echo "  CC      $<")
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(INC_knock) $(ALL_CFLAGS) -MMD -c -o $@ $<

$(B)/obj/tests/%.o: tests/unit/%.c $(HDRS) $(wildcard tests/unit/*.h) | $(B)/obj
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(INC_tests) $(ALL_CFLAGS) $(CFLAGS_CHECK) \
	    -DFIXTURE_DIR='"tests/fixtures"' -c -o $@ $<

$(B)/libcore.a: $(CORE_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/gatekeeperd: $(DAEMON_OBJ) $(IO_OBJ) $(B)/libcore.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(LIBS_IO) $(LIBS_CRYPTO)

# The unit tests also cover three small I/O modules, on files in /tmp.
UNIT_IO	 = $(B)/obj/daemon/otseq.o $(B)/obj/daemon/statefile.o \
	   $(B)/obj/daemon/log.o

$(B)/gatekeeperctl: $(B)/obj/ctl/gatekeeperctl.o $(IO_OBJ) $(B)/libcore.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_CRYPTO)

$(B)/gatekeeper-knock: $(B)/obj/knock/gatekeeper-knock.o $(IO_OBJ) $(B)/libcore.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_CRYPTO)

$(B)/unit-tests: $(UNIT_OBJ) $(UNIT_IO) $(B)/libcore.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(LIBS_CHECK) $(LIBS_CRYPTO)

$(B)/obj:
	mkdir -p $@ $@/core $@/io $@/daemon $@/ctl $@/knock $@/tests

unit: $(B)/unit-tests
	$(B)/unit-tests

# End-to-end tests: root, namespaces, the real kernel queue.
e2e: $(B)/gatekeeperd $(B)/gatekeeperctl $(B)/gatekeeper-knock
	@rc=0; for t in tests/e2e/test_*.sh; do \
	    echo "== $$t"; s=$$(date +%s); \
	    GKD=$(CURDIR)/$(B)/gatekeeperd bash $$t || rc=1; \
	    echo "== $$t: $$(($$(date +%s) - s)) s"; \
	done; exit $$rc

# The unit file as `make install` writes it, checked by systemd itself.
systemd-verify: $(B)/gatekeeperd
	@if ! command -v systemd-analyze >/dev/null; then \
	    echo "SKIP: systemd-analyze not installed"; exit 0; fi; \
	d=$$(mktemp -d) && mkdir $$d/man5 $$d/man8 && \
	cp docs/*.5 $$d/man5/ && cp docs/*.8 $$d/man8/ && \
	sed -e 's|@SBINDIR@|$(CURDIR)/$(B)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/gatekeeper.service.in >$$d/gatekeeper.service && \
	MANPATH=$$d systemd-analyze verify $$d/gatekeeper.service; rc=$$?; rm -rf $$d; \
	[ $$rc = 0 ] && echo "systemd-analyze verify: gatekeeper.service OK"; exit $$rc

check: unit fuzz-replay systemd-verify e2e

demo: deps all
	bash tests/e2e/demo.sh

# Numbers, not pass/fail: connect latency, verdict throughput, flood memory.
bench: $(B)/gatekeeperd $(B)/gatekeeperctl $(B)/bench-spa $(B)/bench-verdict \
    $(B)/minloop
	$(B)/bench-spa
	$(B)/bench-verdict
	GKD=$(CURDIR)/$(B)/gatekeeperd bash tests/e2e/bench.sh

# The floor: an NFQUEUE loop with no logic, per packet or in bursts.
$(B)/minloop: tests/bench/minloop.c
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CFLAGS_IO) $(LDFLAGS) -o $@ $< \
	    $(LIBS_IO)

# The pure decision alone, per core, from 1 to 1M tracked sources.
$(B)/bench-verdict: tests/bench/bench_verdict.c $(B)/libcore.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(INC_core) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ \
	    $(LIBS_CRYPTO)

# The SPA codec alone, per core.
$(B)/bench-spa: tests/bench/bench_spa.c $(B)/libcore.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(INC_core) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ \
	    $(LIBS_CRYPTO)

# Every Debian package needed to build, test and demo; idempotent.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

# `make fuzz` needs clang with libFuzzer.
deps-fuzz:
	@$(MAKE) --no-print-directory deps DEB_PKGS="clang libclang-rt-14-dev"

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(PREFIX)/share/gatekeeper
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/gatekeeperd $(DESTDIR)$(SBINDIR)/gatekeeperd
	install -m 0755 $(B)/gatekeeperctl $(DESTDIR)$(BINDIR)/gatekeeperctl
	install -m 0755 $(B)/gatekeeper-knock $(DESTDIR)$(BINDIR)/gatekeeper-knock
	install -m 0644 docs/gatekeeperctl.1 docs/gatekeeper-knock.1 \
	    $(DESTDIR)$(MANDIR)/man1/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/gatekeeper.service.in >$(DESTDIR)$(UNITDIR)/gatekeeper.service
	install -m 0644 docs/gatekeeperd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/gatekeeper.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 rules/gatekeeper.nft tests/fixtures/example.conf \
	    $(DESTDIR)$(PREFIX)/share/gatekeeper/
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/gatekeeper/gatekeeper.conf ]; then \
	    install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/gatekeeper && \
	    install -m 0640 systemd/gatekeeper.conf \
	        $(DESTDIR)$(SYSCONFDIR)/gatekeeper/gatekeeper.conf; fi

# Undo `make install`, and remove the gate itself: the service is stopped
# and disabled, then the table removed (a stopped daemon leaves it in
# place, closed).  The live steps run only without DESTDIR: a staging tree
# has no running gate.  The configuration and the state are kept.
uninstall:
	@if [ -z "$(DESTDIR)" ]; then \
	    if command -v systemctl >/dev/null 2>&1 && \
	        systemctl cat gatekeeper.service >/dev/null 2>&1; then \
	        systemctl disable --now gatekeeper.service || true; fi; \
	    if [ -x $(SBINDIR)/gatekeeperd ]; then \
	        $(SBINDIR)/gatekeeperd --remove-table || true; fi; fi
	rm -f $(DESTDIR)$(SBINDIR)/gatekeeperd $(DESTDIR)$(BINDIR)/gatekeeperctl \
	    $(DESTDIR)$(BINDIR)/gatekeeper-knock \
	    $(DESTDIR)$(UNITDIR)/gatekeeper.service \
	    $(DESTDIR)$(MANDIR)/man1/gatekeeperctl.1 \
	    $(DESTDIR)$(MANDIR)/man1/gatekeeper-knock.1 \
	    $(DESTDIR)$(MANDIR)/man5/gatekeeper.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/gatekeeperd.8
	rm -rf $(DESTDIR)$(PREFIX)/share/gatekeeper
	@echo "kept: $(DESTDIR)$(SYSCONFDIR)/gatekeeper (configuration) and" \
	    "/var/lib/gatekeeper (state); remove them by hand if you like"

clean:
	rm -rf build

help:
	@echo "make            build build/gatekeeperd"
	@echo "make demo       run the real daemon in throw-away namespaces (root)"
	@echo "make check      unit and end-to-end tests (SAN=1: sanitizers)"
	@echo "make deps       install the Debian packages needed (root)"
	@echo "make install    install (PREFIX, DESTDIR)"
	@echo "make uninstall  stop the service, remove the gate and the files"
	@echo "make fuzz       libFuzzer runs of the parsers (clang; FUZZ_TIME, FUZZ_RUNS)"
	@echo "make bench      latency, throughput and flood numbers (root)"
	@echo "make clean      remove build/"

include tests/fuzz/fuzz.mk

-include $(wildcard $(B)/obj/*/*.d)
