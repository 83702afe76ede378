# vmail: plain make. Every cmd/NAME/*.c becomes bin/NAME, linked with lib/.
# `make`            build bin/
# `make deps`       install the Debian packages vmail builds and runs with
# `make test-deps`  the test tools and the tests' private MariaDB (make check, make run)
# `make check`      build and run every test against a private MariaDB
# `make run|stop`   private instance under ./run
# `make SANITIZE=1` ASan + UBSan build (into the same bin/: `make clean` between)
# `make fuzz`, `make fuzz-run FUZZ_SECONDS=N`   libFuzzer targets under t/fuzz/

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
CPPFLAGS += -I/usr/include/mariadb -Ilib -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror
LDLIBS   += -Wl,--as-needed -lskarnet -lmariadb -lcrypt

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

PROGS    := $(notdir $(wildcard cmd/*))
BINS     := $(addprefix bin/,$(PROGS))
LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:lib/%.c=build/lib/%.o)
LIB_HDR  := $(wildcard lib/*.h)
CMD_HDR  := $(wildcard cmd/*/*.h)

all: $(BINS)

build/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

build/libvmail.a: $(LIB_OBJ)
	rm -f $@; ar rcs $@ $^

build/cmd/%.o: cmd/%.c $(LIB_HDR) $(CMD_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# pc: a literal % that survives into the second expansion, where the stem
# of the pattern rule has already been substituted for every bare %.
pc := %
.SECONDEXPANSION:
bin/%: $$(patsubst cmd/$$(pc).c,build/cmd/$$(pc).o,$$(wildcard cmd/$$*/*.c)) build/libvmail.a
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) build/libvmail.a $(LDLIBS)

# vmail-send and vmail-smtpd run the code of vmail-deliver and vmail-queue
# in a forked child, without an exec (README, design notes).
bin/vmail-send: build/cmd/vmail-deliver/deliver.o
# Its deliveries are forked, not exec'd: symbols bound once at start, not
# again by every child as it first calls them (and the GOT read-only).
bin/vmail-send: LDFLAGS += -Wl,-z,now,-z,relro
bin/vmail-smtpd: build/cmd/vmail-queue/enqueue.o
# The SMTP client alone resolves names (libunbound) and speaks TLS as a client.
bin/vmail-remote: LDLIBS += -lunbound -ltls
# Of the servers, only vmail-tlsd-io holds a TLS library (README, design notes).
bin/vmail-tlsd-io: LDLIBS += -ltls

# vmailctl init reads the sql/ that make install puts under PREFIX: its
# object is rebuilt whenever PREFIX differs from the last build's.
build/prefix: FORCE
	@mkdir -p build; echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@
build/cmd/vmailctl/init.o: build/prefix
build/cmd/vmailctl/init.o: CPPFLAGS += -DSQL_DIR_DEFAULT='"$(PREFIX)/share/vmail/sql"'
build/cmd/vmailctl/script.o: build/prefix
build/cmd/vmailctl/script.o: CPPFLAGS += -DSHARE_DIR_DEFAULT='"$(PREFIX)/share/vmail"'

deps:
	@sh t/lib/deps.sh

test-deps:
	@sh t/lib/deps.sh test

check: deps test-deps all
	@sh t/run-tests

run: deps test-deps all
	@sh t/lib/instance.sh start

stop:
	@sh t/lib/instance.sh stop

FUZZ_SECONDS ?= 30
FUZZ_SRC  := $(wildcard t/fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRC:t/fuzz/%.c=build/fuzz/%)
build/fuzz/%: t/fuzz/%.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $< $(LIB_SRC) -lskarnet -lmariadb -lcrypt -lunbound -ltls
fuzz: $(FUZZ_BINS)
fuzz-run: fuzz
	@sh t/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BINS)

# make install: programs, man pages, sql/ and service/ under PREFIX, then
# dist/setup lays out /etc/vmail (env defaults, service/), /var/log/vmail,
# /var/spool/vmail and the systemd unit (under DESTDIR when set) and, on this
# machine as root without DESTDIR, the users of dist/users, owners, and
# /usr/sbin/sendmail diverted to vmail-sendmail (SENDMAIL=0 skips it).
# Idempotent; never overwrites a setting. make uninstall undoes it but for
# /etc/vmail, the spool, the logs and the users.
UNITDIR ?= /etc/systemd/system
SHARE_FILES := dist/svscan dist/setup dist/migrate dist/check dist/users dist/env.defaults dist/vmail.service
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/vmail/dist
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard cmd/*/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/
	rm -rf $(DESTDIR)$(PREFIX)/share/vmail/sql $(DESTDIR)$(PREFIX)/share/vmail/service $(DESTDIR)$(PREFIX)/share/vmail/contrib
	cp -R sql service contrib $(DESTDIR)$(PREFIX)/share/vmail/
	install -m 755 $(filter-out dist/users dist/env.defaults dist/vmail.service,$(wildcard $(SHARE_FILES))) $(DESTDIR)$(PREFIX)/share/vmail/
	install -m 644 dist/users dist/env.defaults dist/vmail.service $(DESTDIR)$(PREFIX)/share/vmail/dist/
	PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) UNITDIR=$(UNITDIR) SRC=. sh dist/setup files
ifeq ($(DESTDIR),)
	PREFIX=$(PREFIX) UNITDIR=$(UNITDIR) SRC=. SENDMAIL=$(SENDMAIL) sh dist/setup system
endif

uninstall:
	-PREFIX=$(PREFIX) SRC=. sh dist/setup remove
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(PROGS)) $(addprefix $(DESTDIR)$(PREFIX)/share/man/man8/,$(notdir $(wildcard cmd/*/*.8)))
	rm -rf $(DESTDIR)$(PREFIX)/share/vmail $(DESTDIR)$(UNITDIR)/vmail.service

# make deb: a Debian package (build/deb/vmail_*.deb) from a copy of the tree,
# with dpkg-buildpackage and debian/ (PREFIX=/usr; postinst makes the users
# and the sendmail diversion; /etc/vmail's files are conffiles).
deb:
	rm -rf build/deb && mkdir -p build/deb/vmail
	tar --exclude=./build --exclude=./bin --exclude=./run --exclude=./.git -cf - . | tar -C build/deb/vmail -xf -
	cd build/deb/vmail && dpkg-buildpackage -us -uc -b
	@ls build/deb/*.deb

clean:
	rm -rf build bin

.PHONY: all deps test-deps check run stop fuzz fuzz-run install uninstall deb clean FORCE
.SECONDARY:
