# tests/fuzz/fuzz.mk: fuzz targets of the pure parsers, and corpus replay.
# Included from the top Makefile, which provides B, CC, CPPFLAGS, ALL_CFLAGS,
# LDFLAGS, WARN, CORE and the rule for $(B)/libcore.a.
#
#   make fuzz-replay   every committed seed through every target, built with
#                      $(CC) and the project's flags (part of `make check`;
#                      SAN=1 adds ASan/UBSan); fails if an invariant breaks
#   make fuzz          libFuzzer (clang), FUZZ_TIME seconds per target
#                      (default 60), or FUZZ_RUNS executions
#                      (e.g. `make fuzz FUZZ_RUNS=10000000`: no time limit);
#                      FUZZ_TARGETS=pkt picks targets, FUZZ_FLAGS adds
#                      libFuzzer flags.  New inputs go to a scratch corpus
#                      under $(B)/fuzz/corpus/, findings to
#                      $(B)/fuzz/artifacts/; any finding fails the make.
#
# A finding is fixed in src/, then its (minimised) input is committed to
# tests/fuzz/corpus/<target>/ so fuzz-replay keeps it fixed.

FUZZ_DIR	= tests/fuzz
# One target per parser the core has (ctlproto once it is in CORE).
FUZZ_TARGETS	?= pkt config ctlproto spa fwaccess profile

# Seeds per target: the committed corpus, for config also the fixtures.
FUZZ_SEEDS_pkt		= $(FUZZ_DIR)/corpus/pkt
FUZZ_SEEDS_config	= $(FUZZ_DIR)/corpus/config tests/fixtures
FUZZ_SEEDS_ctlproto	= $(FUZZ_DIR)/corpus/ctlproto
FUZZ_SEEDS_spa		= $(FUZZ_DIR)/corpus/spa
FUZZ_SEEDS_fwaccess	= $(FUZZ_DIR)/corpus/fwaccess
FUZZ_SEEDS_profile	= $(FUZZ_DIR)/corpus/profile
# Longest input: a packet with a long IPv6 header chain; a config with
# many doors; a request line just past CTL_REQ_MAX.
FUZZ_MAXLEN_pkt		= 1024
FUZZ_MAXLEN_config	= 4096
FUZZ_MAXLEN_ctlproto	= 600
FUZZ_MAXLEN_spa		= 1600
FUZZ_MAXLEN_fwaccess	= 4096
FUZZ_MAXLEN_profile	= 4096
FUZZ_DICT_config	= $(FUZZ_DIR)/config.dict
FUZZ_DICT_ctlproto	= $(FUZZ_DIR)/ctlproto.dict

# Debian packages `make fuzz` needs (libFuzzer is only Recommended by clang).
FUZZ_DEB_PKGS	= clang libclang-rt-14-dev
FUZZ_CC		?= clang
FUZZ_CFLAGS	?= -g -O1
FUZZ_SAN	= -fsanitize=fuzzer,address,undefined \
		  -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_RUNS	?=
FUZZ_TIME	?= $(if $(FUZZ_RUNS),0,60)
FUZZ_FLAGS	?=

FUZZ_HDRS	= $(FUZZ_DIR)/fuzz.h $(wildcard src/core/*.h)
FUZZ_CORE_SRC	= $(CORE_SRC)
FUZZ_REPLAY_BIN	= $(FUZZ_TARGETS:%=$(B)/fuzz/replay-%)
FUZZ_BIN	= $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz-%)

.PHONY: fuzz fuzz-replay fuzz-toolchain

# Replayer: the target and replay.c, gcc-built, against the core library.
$(B)/fuzz/replay-%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/replay.c $(FUZZ_HDRS) \
    $(B)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(INC_core) $(ALL_CFLAGS) $(LDFLAGS) -o $@ \
	    $(FUZZ_DIR)/fuzz_$*.c $(FUZZ_DIR)/replay.c $(B)/libcore.a $(LIBS_CRYPTO)

fuzz-replay: $(FUZZ_REPLAY_BIN)
	@set -e; $(foreach t,$(FUZZ_TARGETS),\
	    $(B)/fuzz/replay-$(t) $(FUZZ_SEEDS_$(t));)

# libFuzzer binary: the core sources themselves, so that they carry the
# coverage instrumentation (libcore.a is gcc-built without it).
$(B)/fuzz/fuzz-%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_CORE_SRC) $(FUZZ_HDRS) \
    | fuzz-toolchain
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(INC_core) $(filter -D%,$(ALL_CFLAGS)) -std=c11 \
	    $(filter-out -Werror,$(WARN)) $(FUZZ_CFLAGS) $(FUZZ_SAN) \
	    -o $@ $< $(FUZZ_CORE_SRC) $(LIBS_CRYPTO)

fuzz-toolchain:
	@mkdir -p $(B)/fuzz && \
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
	    'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
	    >$(B)/fuzz/probe.c && \
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $(B)/fuzz/probe \
	    $(B)/fuzz/probe.c 2>/dev/null || { \
	    echo "make fuzz: '$(FUZZ_CC) -fsanitize=fuzzer' does not work;" \
	        "needs clang with libFuzzer (Debian: clang libclang-rt-14-dev)"; \
	    exit 1; }

fuzz: $(FUZZ_BIN)
	@rc=0; $(foreach t,$(FUZZ_TARGETS),\
	    sh $(FUZZ_DIR)/run-fuzzer.sh $(t) $(B)/fuzz/fuzz-$(t) $(B)/fuzz \
	        '$(FUZZ_MAXLEN_$(t))' '$(FUZZ_TIME)' '$(FUZZ_RUNS)' \
	        '$(wildcard $(FUZZ_DICT_$(t)))' '$(FUZZ_FLAGS)' \
	        $(FUZZ_SEEDS_$(t)) || rc=1;) \
	exit $$rc
