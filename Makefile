# hostflowd: one interface table, served as IF-MIB over AgentX and as sFlow v5.
# See README.md for the two commands (make demo, make check).

PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
DATADIR   ?= $(PREFIX)/share/hostflow
EXAMPLESDIR ?= $(DATADIR)/examples
DESTDIR   ?=
# yes: also install the snmpd drop-in into /etc (unless one exists). The
# package (make deb) says no: there it is only an example.
SNMPD_DROPIN ?= yes

# The version, one source of truth: the first line of the package's changelog,
# "hostflow (UPSTREAM-REVISION) ...". hostflowd -V and the man pages say
# UPSTREAM; the package is UPSTREAM-REVISION. make deb VERSION=0.1.0+test1
# builds a newer package of the same tree.
DEB_CHANGELOG := conf/debian/changelog
DEB_FULLVERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' $(DEB_CHANGELOG))
# Only a command-line VERSION overrides it (not one in the environment).
ifneq ($(origin VERSION),command line)
VERSION := $(shell echo '$(DEB_FULLVERSION)' | sed 's/-[^-]*$$//')
endif
ifneq ($(origin DEB_REVISION),command line)
DEB_REVISION := $(shell echo '$(DEB_FULLVERSION)' | sed -n 's/.*-\([^-]*\)$$/\1/p')
endif
ifeq ($(VERSION),)
$(error no version: $(DEB_CHANGELOG) must start with "hostflow (VERSION-REVISION) ...")
endif

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
NL_CFLAGS  := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
NL_LIBS    := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3)
SNMP_LIBS  := -lnetsnmpagent -lnetsnmp
PCAP_LIBS  := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)
BPF_LIBS   := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(NL_CFLAGS) -Iagent $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  := $(NL_LIBS) $(SNMP_LIBS) $(PCAP_LIBS) $(BPF_LIBS) -lpthread $(EXTRA_LDLIBS)

# The tc eBPF capture's kernel program (agent/sflow/bpf/sample.bpf.c), built
# by clang for the BPF target against the UAPI headers and libbpf's
# bpf_helpers.h (no vmlinux.h: it reads only __sk_buff), and embedded in
# hostflowd by sample_embed.S. -g gives the BTF libbpf needs for the maps.
BPF_CLANG ?= clang
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
BPF_CFLAGS := -O2 -g -target bpf -Wall -Wextra -I/usr/include/$(MULTIARCH) -Iagent \
	-fdebug-prefix-map=$(CURDIR)=.
BPF_OBJ := build/obj/sflow/bpf/sample.bpf.o
BPF_EMBED := build/obj/sflow/bpf/sample_embed.o

# The rooms of agent/ (docs/ARCHITECTURE.md draws them). Objects go to
# build/obj/, mirroring the tree.
ROOMS := base config table snmp sflow sflow/core daemon
SRC := $(foreach r,$(ROOMS),$(wildcard agent/$(r)/*.c))
HDR := $(foreach r,$(ROOMS),$(wildcard agent/$(r)/*.h)) $(wildcard agent/sflow/bpf/*.h)
OBJDIR := build/obj
obj = $(patsubst agent/%.c,$(OBJDIR)/%.o,$(1))
# Pure code (no net-snmp, no kernel, no thread): the base room, the config
# parser, the map, the sFlow core and the link notifications' decisions
# (snmp/notify_core.c). The fuzzers link exactly these.
PURE_SRC := $(wildcard agent/base/*.c) agent/config/config.c agent/config/config_resolve.c \
	agent/config/ifmap.c $(wildcard agent/config/import*.c) $(wildcard agent/sflow/core/*.c) \
	agent/snmp/notify_core.c
PURE_OBJ := $(call obj,$(PURE_SRC))
DAEMON_OBJ := $(call obj,$(filter-out $(PURE_SRC),$(SRC))) $(BPF_EMBED)
UNIT_SRC := $(wildcard test/unit/check_*.c)
UNIT_BIN := $(UNIT_SRC:.c=)
# Unit tests of rooms that need the kernel side (iftable) link everything but main.
LIB_OBJ := $(PURE_OBJ) $(filter-out $(OBJDIR)/daemon/main.o,$(DAEMON_OBJ))

.PHONY: all check unit fuzz-replay integration demo bench install uninstall clean asan valgrind deps fuzz \
	deb check-package deps-package FORCE

all: agent/hostflowd

agent/hostflowd: $(PURE_OBJ) $(DAEMON_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# main.c prints the version: rebuilt when VERSION changes (build/version holds
# the last one built; it is rewritten only when it differs).
$(OBJDIR)/daemon/main.o: build/version
$(OBJDIR)/daemon/main.o: ALL_CFLAGS += -DHOSTFLOW_VERSION='"$(VERSION)"'
build/version: FORCE
	@mkdir -p build
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@

$(OBJDIR)/%.o: agent/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BPF_OBJ): agent/sflow/bpf/sample.bpf.c agent/sflow/bpf/sample_abi.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(BPF_EMBED): agent/sflow/bpf/sample_embed.S $(BPF_OBJ)
	$(CC) $(CPPFLAGS) -DHF_BPF_OBJECT='"$(BPF_OBJ)"' -c -o $@ $<

# Code only the tests use (a strict sFlow decoder): test/common/, never in
# the daemon.
TEST_COMMON := $(wildcard test/common/*.c)
# Compiled once, not once per unit test binary.
TEST_COMMON_OBJ := $(patsubst test/common/%.c,$(OBJDIR)/test/common/%.o,$(TEST_COMMON))

TEST_HDR := test/unit/hf_check.h $(wildcard test/common/*.h)

$(OBJDIR)/test/common/%.o: test/common/%.c $(TEST_HDR) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itest/common -c -o $@ $<

test/unit/check_%: test/unit/check_%.c $(LIB_OBJ) $(TEST_COMMON_OBJ) $(TEST_HDR)
	$(CC) $(ALL_CFLAGS) -Itest/unit -Itest/common -o $@ $(filter-out %.h,$^) $(LDLIBS) $(CHECK_LIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; CK_FORK=yes ./$$t; done

# Helpers the integration tests run (test-only): tcxfill fills a tcx hook
# so that the kernel refuses the tc eBPF capture's attach there.
TEST_TOOLS := test/tools/tcxfill

test/tools/tcxfill: test/tools/tcxfill.c test/tools/tcxhold.h
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BPF_LIBS)

integration: agent/hostflowd $(TEST_TOOLS)
	@bash test/integration/run.sh

# The README's test command: every unit test, the fuzzers' corpus and
# regression inputs replayed, every integration test. The build runs one job
# per core; the tests run one after another (integration tests share the
# machine's namespaces and snmpd, and timing-sensitive checks want the CPU).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps-check
	@$(MAKE) --no-print-directory -j$(JOBS) all $(UNIT_BIN) $(TEST_TOOLS)
	@$(MAKE) --no-print-directory unit fuzz-replay integration

fuzz-replay:
	@bash test/fuzz/run.sh replay

deps:
	@bash test/deps.sh all

deps-check:
	@bash test/deps.sh check

demo: deps all
	@bash test/demo.sh

bench: deps all
	@bash test/bench/run.sh

# The whole suite with AddressSanitizer and UBSan (CI runs it after check).
# It rebuilds the tree: objects of the normal build are removed first, and
# the sanitized ones after, whether the suite passed or not.
asan:
	$(MAKE) clean
	LSAN_OPTIONS=suppressions=$(CURDIR)/test/lsan.supp \
	$(MAKE) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" check; \
	rc=$$?; $(MAKE) clean; exit $$rc

valgrind: all $(UNIT_BIN)
	@bash test/valgrind.sh

fuzz:
	@bash test/fuzz/run.sh

install: all
	install -D -m 0755 agent/hostflowd $(DESTDIR)$(SBINDIR)/hostflowd
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	sed '1s/"hostflow [^"]*"/"hostflow $(VERSION)"/' docs/hostflowd.8 >$(DESTDIR)$(MANDIR)/man8/hostflowd.8
	sed '1s/"hostflow [^"]*"/"hostflow $(VERSION)"/' docs/hostflowd.conf.5 >$(DESTDIR)$(MANDIR)/man5/hostflowd.conf.5
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/hostflowd.8 $(DESTDIR)$(MANDIR)/man5/hostflowd.conf.5
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLESDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/hostflowd.service > $(DESTDIR)$(UNITDIR)/hostflowd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/hostflowd.service
	install -D -m 0644 systemd/hostflow.sysusers $(DESTDIR)$(SYSUSERSDIR)/hostflow.conf
	install -m 0644 conf/*.conf conf/*.yaml $(DESTDIR)$(EXAMPLESDIR)/
	install -D -m 0644 conf/pmacct/pmacctd.conf $(DESTDIR)$(EXAMPLESDIR)/pmacct/pmacctd.conf
	install -m 0644 systemd/snmpd.service.d/hostflow.conf $(DESTDIR)$(EXAMPLESDIR)/snmpd.service.d-hostflow.conf
	@# Never overwrite an operator's file in /etc.
	@$(call install_keep,conf/hostflowd.conf,$(DESTDIR)$(SYSCONFDIR)/hostflow/hostflowd.conf)
ifeq ($(SNMPD_DROPIN),yes)
	@$(call install_keep,systemd/snmpd.service.d/hostflow.conf,$(DESTDIR)$(SYSCONFDIR)/systemd/system/snmpd.service.d/hostflow.conf)
endif

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hostflowd $(DESTDIR)$(MANDIR)/man8/hostflowd.8 \
	      $(DESTDIR)$(MANDIR)/man5/hostflowd.conf.5 $(DESTDIR)$(UNITDIR)/hostflowd.service \
	      $(DESTDIR)$(SYSUSERSDIR)/hostflow.conf
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(EXAMPLESDIR)
	@echo "kept $(SYSCONFDIR)/hostflow and the snmpd drop-in: remove them by hand if you want them gone"

# install_keep SRC,DST: install unless DST exists.
define install_keep
if [ -e $(2) ]; then echo "keeping existing $(2)"; else install -D -m 0644 $(1) $(2); fi
endef

# The Debian package: build/hostflow_VERSION-REVISION_ARCH.deb, built from a
# copy of the tree with Debian's build flags (conf/debian/README.md).
deb:
	@VERSION='$(VERSION)' DEB_REVISION='$(DEB_REVISION)' bash conf/debian/build-deb.sh

# Builds the package, lints it, installs, upgrades and purges it in a fresh
# Debian root (test/package/check_package.sh).
check-package: deps-package
	@VERSION='$(VERSION)' DEB_REVISION='$(DEB_REVISION)' bash test/package/check_package.sh

deps-package:
	@bash test/deps.sh package

# make -s print-VAR: the value of VAR (test/fuzz/run.sh reads PURE_SRC).
print-%:
	@echo $($*)

clean:
	rm -f agent/hostflowd $(UNIT_BIN) $(TEST_TOOLS) test/unit/*.o
	rm -rf --one-file-system $(OBJDIR) build/deb build/package build/hostflow_*.deb build/version
