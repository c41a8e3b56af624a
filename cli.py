"""ocop-stamps: keep OCOP records, sign batches, issue QR stamp codes and verify them offline.

Run ``ocop-stamps --help`` (or ``python cli.py --help``). Every command is a
thin skin over the ``stamps`` and ``keys`` packages; every error they raise
becomes one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys


def _exit_interrupted(signum: int = signal.SIGINT, frame: Any = None) -> None:
    """Leave at once with exit code 130 and no traceback (Ctrl-C while modules load or Python shuts down)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or broken stream: nothing more to say anyway
            pass
    os._exit(128 + signal.SIGINT)


def _quiet_ctrl_c() -> Any:
    """Make Ctrl-C leave quietly; returns the handler it replaced (None when it left things as they were)."""
    try:
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN:  # started with Ctrl-C ignored (a background job): keep it ignored
            return None
        signal.signal(signal.SIGINT, _exit_interrupted)
        return previous
    except ValueError:  # loaded outside the main thread, where signals cannot be handled
        return None


@contextlib.contextmanager
def loading_modules() -> Iterator[None]:
    """Within it Ctrl-C exits quietly with 130 (an import interrupted half-way can even crash a native module)."""
    previous = _quiet_ctrl_c()
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


_SIGINT_BEFORE_LOADING = _quiet_ctrl_c()  # until the module is defined (its last lines): Ctrl-C exits quietly meanwhile
with loading_modules():  # first thing: loading what every command needs takes a noticeable moment
    import csv
    import datetime as dt
    import io
    import json
    import re
    import shlex
    import tempfile
    from pathlib import Path
    from typing import Any, Callable, Iterator, NamedTuple, NoReturn

    import click
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from keys.keyfile import load_public_key_pem, needs_passphrase, public_key_pem
    from stamps import registry, validation
    from stamps.errors import StampError
    from stamps.instance import Instance, default_root
    from stamps.issuance import (IssueFeedback, SerialRange, StampSigner, issue_stamps, reprint_command, reprint_range,
                                 unwritten_serials)
    from stamps.printing.label import MIN_READABLE_PT
    from stamps.present import text_report
    from stamps.batch_record import StoredBatch
    from stamps.scanlog import DEFAULT_COPY_THRESHOLD, DEFAULT_RATE_LIMIT_PER_MINUTE
    from stamps.store import DATABASE_ENV, MAX_RECORD_ID, Store
    from stamps.verify import Verification
# The web stack (Flask, Werkzeug, Jinja, gunicorn) and the printing stack (reportlab, zxing-cpp, Pillow) are
# imported inside the commands that use them (serve, demo, issue), under loading_modules() too, so every other
# command starts without them.

PASSPHRASE_ENV = "OCOP_STAMPS_PASSPHRASE"
EXIT_CODES = {"genuine": 0, "warning": 3, "invalid": 4}
RECORD_ID = click.IntRange(1, MAX_RECORD_ID)


class FriendlyGroup(click.Group):
    """A click group that turns every expected failure into one line and exit code 1 (Ctrl-C: 'Interrupted.', 130)."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt:
            interrupted()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StampError as error:
            raise click.ClickException(error.diagnostics()) from None
        except UnicodeError:
            raise click.ClickException("Some text given is not valid Unicode; type it again in a UTF-8 terminal or file.") from None
        except OSError as error:
            where = f" ({error.filename})" if error.filename else ""
            raise click.ClickException(f"{error.strerror or error}{where}.") from None
        except KeyboardInterrupt:
            interrupted()


def interrupted() -> NoReturn:
    """Ctrl-C during a command that did not handle it itself (Python's KeyboardInterrupt): one line, exit 130."""
    if sys.stderr.isatty():
        click.echo(err=True)  # past the terminal's ^C
    click.echo("Interrupted.", err=True)
    raise click.exceptions.Exit(128 + signal.SIGINT)


class Where(NamedTuple):
    """The instance a command works on: its folder, and the PostgreSQL database holding its records (if not the
    folder's SQLite file)."""

    root: Path
    database: str | None


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--instance", "instance_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Instance folder (database, keys, output). Default: $OCOP_STAMPS_HOME or the per-user data folder.")
@click.option("--database", metavar="URL", envvar=DATABASE_ENV,
              help="Keep the records in this PostgreSQL database (postgresql://user:password@host/db) instead of the "
                   f"instance folder's SQLite file. Default: ${DATABASE_ENV}.")
@click.version_option(package_name="ocop-stamps")
@click.pass_context
def cli(ctx: click.Context, instance_dir: Path | None, database: str | None) -> None:
    """Signed QR traceability stamps for OCOP products (tem truy xuất nguồn gốc).

    Typical order: init, keys generate, producer add, farm add, product add,
    batch create, issue, verify.
    """
    ctx.obj = Where(instance_dir or default_root(), (database or "").strip() or None)


def where(ctx: click.Context) -> Where:
    found: Where = ctx.find_root().obj
    return found


def open_instance(ctx: click.Context, *, read_only: bool = False) -> Instance:
    instance = Instance.open(where(ctx).root, read_only=read_only, database=where(ctx).database)
    ctx.call_on_close(instance.close)
    return instance


def passphrase(confirm: bool = False) -> bytes:
    """The key passphrase from $OCOP_STAMPS_PASSPHRASE or a hidden prompt."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None:
        if not sys.stdin.isatty():
            raise click.ClickException(f"No passphrase: set {PASSPHRASE_ENV} or run the command in a terminal to be asked.")
        value = click.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm)
    return value.encode("utf-8")


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def read_json_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    data = registry.load_json_file(path)
    if not isinstance(data, dict):
        raise click.ClickException(f"{path} must hold one JSON object.")
    return data


def merged_input(json_file: Path | None, options: dict[str, Any]) -> dict[str, Any]:
    """Fields from --from-json, overridden by the options given on the command line."""
    data = read_json_file(json_file)
    data.update({name: value for name, value in options.items() if value not in (None, ())})
    return data


def record_options(fields: list[tuple[str, str]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add one --option per record field, plus --from-json."""
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for name, help_text in reversed(fields):
            multiple = help_text.startswith("(repeatable)")
            command = click.option(f"--{name.replace('_', '-')}", name, multiple=multiple, help=help_text)(command)
        return click.option("--from-json", "json_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                            help="Read the fields from a JSON object (options override it).")(command)
    return decorate


# init and keys ------------------------------------------------------------------------------------
@cli.command()
@click.option("--base-url", required=True, help="Verifier address stamps will carry, e.g. https://truyxuat.example.vn")
@click.option("--allow-large-qr", is_flag=True, help="Accept a base URL so long that stamps need a QR larger than version 7.")
@click.pass_context
def init(ctx: click.Context, base_url: str, allow_large_qr: bool) -> None:
    """Create the instance folder (or change its verifier base URL)."""
    instance = Instance.create(where(ctx).root, base_url, allow_large_qr=allow_large_qr, database=where(ctx).database)
    ctx.call_on_close(instance.close)
    click.echo(f"Instance ready at {instance.root}; stamps will point to {instance.base_url}")


@cli.group()
def keys() -> None:
    """Signing keys and the trust store of public keys."""


@keys.command("generate")
@click.option("--label", default="", help="A name for the key, e.g. the cooperative's name.")
@click.option("--unsafe-no-passphrase", is_flag=True, help="Store the private key UNENCRYPTED (only for throw-away tests).")
@click.pass_context
def keys_generate(ctx: click.Context, label: str, unsafe_no_passphrase: bool) -> None:
    """Generate an Ed25519 signing key, stored encrypted (mode 0600) in the instance."""
    instance = open_instance(ctx)
    secret = None if unsafe_no_passphrase else passphrase(confirm=True)
    if unsafe_no_passphrase:
        click.echo("WARNING: the private key is stored without encryption.", err=True)
    key = instance.generate_key(secret, validation.required_text(label or "signing key", "--label", max_length=100))
    click.echo(f"Key {key.key_id} generated: {instance.key_path(key.key_id)}")
    click.echo("Back this file up together with its passphrase: a lost key cannot sign stamps for its batches.")


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """List trusted public keys with their status."""
    instance = open_instance(ctx, read_only=True)
    signing = instance.store.setting("signing_key_id")
    for key in instance.trust.all():
        marker = " (signing key)" if key.key_id == signing else ""
        click.echo(f"{key.key_id}  {key.status:<8} {key.label}{marker}")


@keys.command("export")
@click.argument("key_id", required=False)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.pass_context
def keys_export(ctx: click.Context, key_id: str | None, out: Path | None) -> None:
    """Export a public key as PEM (default: the signing key), for verifiers and inspectors."""
    instance = open_instance(ctx, read_only=True)
    pem = public_key_pem(instance.trust.get(key_id or instance.signing_key_id).public_key)
    if out:
        out.write_bytes(pem)
        click.echo(f"Public key written to {out}")
    else:
        click.echo(pem.decode("ascii"), nl=False)


@keys.command("import")
@click.argument("pem_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--label", required=True, help="Whose key this is, e.g. 'HTX Hợp Tiến'.")
@click.pass_context
def keys_import(ctx: click.Context, pem_file: Path, label: str) -> None:
    """Trust another producer's public key (PEM from 'keys export')."""
    instance = open_instance(ctx)
    key = instance.trust.add(load_public_key_pem(pem_file.read_bytes(), str(pem_file)),
                             validation.required_text(label, "--label", max_length=100))
    click.echo(f"Key {key.key_id} trusted ({key.status}): {key.label}")


@keys.command("retire")
@click.argument("key_id")
@click.pass_context
def keys_retire(ctx: click.Context, key_id: str) -> None:
    """Mark a key retired: what it signed still verifies; new batches are signed with the current key."""
    key = open_instance(ctx).trust.set_status(key_id, "retired")
    click.echo(f"Key {key.key_id} is now retired.")


@cli.command()
@click.argument("key_id")
@click.option("--reason", default="", help="Why the key is revoked (lost, stolen, leaked).")
@click.option("--unsigned", is_flag=True, help="Revoke it here only, with no revocation signed by the key for the hub "
                                                "(its file or passphrase is lost: ask your OCOP office to revoke it there).")
@click.pass_context
def revoke(ctx: click.Context, key_id: str, reason: str, unsigned: bool) -> None:
    """Revoke a key: every stamp it signed then verifies as 'revoked key' (here, and at the hub after 'publish')."""
    from stamps.roles.publishing import revoke_key

    instance = open_instance(ctx)
    keys = (lambda _: None) if unsigned else _own_key(instance, allow_revoked=True)
    revoked = revoke_key(instance, key_id, reason, keys, dt.datetime.now(dt.timezone.utc))
    signed = " Its signed revocation goes to the hub with 'ocop-stamps publish'." if revoked.signed else ""
    click.echo(f"Key {revoked.key_id} is revoked.{signed} Generate a new key with 'ocop-stamps keys generate'.")


# the trust chain: enrolment, OCOP offices, the national root --------------------------------------------------
@cli.command()
@click.option("--producer", "producer_id", type=RECORD_ID, help="Id of the producer to enrol (default: the only one).")
@click.option("--key", "key_ref", metavar="KEY_ID", help="The key to enrol (default: the signing key).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="request.json", show_default=True,
              help="Where to write the request.")
@click.pass_context
def enrol(ctx: click.Context, producer_id: int | None, key_ref: str | None, out: Path) -> None:
    """Write an enrolment request for your OCOP office: the producer's identity and public key, signed by that key."""
    from stamps.roles.producer import write_enrolment

    instance = open_instance(ctx)
    key_id = instance.trust.get(key_ref).key_id if key_ref else instance.signing_key_id
    enrolment = write_enrolment(instance.store, producer_id, load_key(instance, key_id), out)
    click.echo(f"Enrolment request of {enrolment.producer.name} for key {enrolment.key_id} written to {out}: "
               "send it to your OCOP office.")


@cli.group()
def authority() -> None:
    """An OCOP office's desk (its own instance): endorse producers, revoke; 'root': the national root operator's."""


def open_desk(ctx: click.Context, role: str, *, read_only: bool = False) -> Any:
    from stamps.roles.desk import Desk

    desk = Desk.open(where(ctx).root, role, database=where(ctx).database, read_only=read_only)
    ctx.call_on_close(desk.close)
    return desk


def write_json(out: Path | None, document: Any) -> None:
    _write_text(out, json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))


@authority.command("init")
@click.option("--name", required=True, help="The office's name, e.g. 'Văn phòng Điều phối NTM tỉnh Điện Biên'.")
@click.option("--scope", required=True, type=click.Choice(["province", "central"]),
              help="province: rates 3 and 4 stars in its province; central: rates 5 stars.")
@click.option("--province", help="The office's province (required for --scope province).")
@click.option("--id", "office_id", help="Short id in the trust root (default: the province in ASCII, e.g. dien-bien; "
                                        "trung-uong for the central office).")
@click.option("--card", type=click.Path(dir_okay=False, path_type=Path), default="office-card.json", show_default=True,
              help="Where to write the office card for the national root operator.")
@click.pass_context
def authority_init(ctx: click.Context, name: str, scope: str, province: str | None, office_id: str | None, card: Path) -> None:
    """Make this office's instance (the folder is created if needed) with its encrypted key, and write its office card."""
    from stamps.roles.office import init_office

    fields = {"name": name, "scope": scope, "province": province, "id": office_id}
    profile = init_office(where(ctx).root, fields, passphrase(confirm=True), card, database=where(ctx).database)
    click.echo(f"Office {profile.id} ({profile.name}) ready at {where(ctx).root}; its key {profile.key_id} is encrypted there. "
               f"Office card written to {card}: send it to the national root operator and read them the key id by phone.")


@authority.command("card")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.pass_context
def authority_card(ctx: click.Context, out: Path | None) -> None:
    """Show the office card again (id, name, scope, province, public key)."""
    from stamps.roles.office import ROLE, office_profile

    write_json(out, office_profile(open_desk(ctx, ROLE, read_only=True)).card())


ENDORSE_EPILOG = ("Products: give --product, --certificate-no, --stars, --decision-no and --decision-date once per "
                  "product, in the same order (--level and --valid-until: once per product or not at all; level "
                  "follows the stars, validity defaults to 36 months from the decision), and/or --products-file: a "
                  "JSON list of objects with name, certificate_no, stars, level, decision_no, decision_date, valid_until. "
                  "The producer's key is endorsed from today to the earliest of --key-valid-until and the longest product "
                  "validity. Endorsing a producer again (same --producer-ref) makes the next version, which replaces the "
                  "earlier one and keeps its keys and products unless given again (same key or certificate number), "
                  "withdrawn (--withdraw) or revoked.")


@authority.command("endorse", epilog=ENDORSE_EPILOG)
@click.argument("request", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--producer-ref", required=True, help="The office's reference for this producer (its register number).")
@click.option("--product", "name", multiple=True, help="(repeatable) Product name, exactly as on the producer's records.")
@click.option("--certificate-no", multiple=True, help="(repeatable) OCOP certificate number.")
@click.option("--stars", multiple=True, help="(repeatable) OCOP stars: 3 or 4 (province), 5 (central).")
@click.option("--level", multiple=True, help="(repeatable) province or national (default: from the stars).")
@click.option("--decision-no", multiple=True, help="(repeatable) Number of the decision awarding the stars.")
@click.option("--decision-date", multiple=True, help="(repeatable) Date of the decision.")
@click.option("--valid-until", multiple=True, help="(repeatable) Certificate valid until (at most 36 months after the decision).")
@click.option("--products-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Products as a JSON list.")
@click.option("--withdraw", multiple=True, metavar="CERTIFICATE_NO", help="(repeatable) Drop a product of the earlier version.")
@click.option("--key-valid-until", metavar="DATE", help="Endorse the key no longer than this day.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="endorsement.json", show_default=True,
              help="Where to write the endorsement.")
@click.pass_context
def authority_endorse(ctx: click.Context, request: Path, producer_ref: str, products_file: Path | None,
                      withdraw: tuple[str, ...], key_valid_until: str | None, out: Path, **columns: tuple[str, ...]) -> None:
    """Endorse a producer's enrolment request: its identity, its key and its OCOP products, signed by this office."""
    from stamps.roles import office

    desk = open_desk(ctx, office.ROLE)
    products = office.products_from_columns(columns, registry.load_json_file(products_file) if products_file else [])
    draft = office.draft_endorsement(desk, office.read_enrolment(request.read_bytes()), producer_ref, products,
                                     key_valid_until=validation.date(key_valid_until, "--key-valid-until", required=False),
                                     withdraw=withdraw)
    statement = office.issue_endorsement(desk, draft, office.office_key(desk, passphrase()), out)
    click.echo(f"{office.describe_endorsement(draft)} Written to {out} ({statement.hash[:16]}): give it to the producer.")


@authority.command("revoke")
@click.option("--endorsement", metavar="HASH_OR_FILE", help="An endorsement this office issued: its file or hash (prefix).")
@click.option("--key", metavar="KEY_ID", help="A producer key this office endorsed.")
@click.option("--reason", required=True, help="Why (kept in the revocation, shown to inspectors).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="revocation.json", show_default=True,
              help="Where to write the revocation.")
@click.pass_context
def authority_revoke(ctx: click.Context, endorsement: str | None, key: str | None, reason: str, out: Path) -> None:
    """Withdraw an endorsement or a producer key: a revocation signed by this office, to publish to the hub."""
    from stamps.roles import office
    from stamps.roles.office_revocation import draft_revocation, issue_revocation

    desk = open_desk(ctx, office.ROLE)
    draft = draft_revocation(desk, endorsement=endorsement, key=key, reason=reason)
    statement = issue_revocation(desk, draft, office.office_key(desk, passphrase()), out)
    click.echo(f"Revocation of {draft.revocation.target} {draft.revocation.subject[:16]} written to {out} "
               f"({statement.hash[:16]}): publish it to the hub.")


@authority.command("list")
@click.pass_context
def authority_list(ctx: click.Context) -> None:
    """List what this office has signed: endorsements (newest version of each producer marked) and revocations."""
    from stamps.roles import office

    for line in office.listing(open_desk(ctx, office.ROLE, read_only=True)):
        click.echo(line)


@authority.command("export")
@click.argument("statement_hash", metavar="HASH")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.pass_context
def authority_export(ctx: click.Context, statement_hash: str, out: Path | None) -> None:
    """Write out again an endorsement or revocation this office signed (HASH: 8 or more hex digits)."""
    from stamps.roles import office

    statement = office.export_statement(open_desk(ctx, office.ROLE, read_only=True), statement_hash)
    _write_text(out, statement.canonical.decode("utf-8"))


@authority.group("root")
def authority_root() -> None:
    """The national root operator (its own instance): the national key, the offices and hubs, the signed trust root."""


@authority_root.command("init")
@click.pass_context
def root_init(ctx: click.Context) -> None:
    """Make the national root operator's instance (the folder is created if needed) with its encrypted national key."""
    from stamps.roles.national import init_national_root

    identifier = init_national_root(where(ctx).root, passphrase(confirm=True), database=where(ctx).database)
    click.echo(f"National root key {identifier} made at {where(ctx).root} (encrypted). Add offices with "
               "'ocop-stamps authority root office add CARD.json', then 'ocop-stamps authority root sign'.")


@authority_root.group("office")
def root_office() -> None:
    """The OCOP offices the next trust root lists."""


@root_office.command("add")
@click.argument("card", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--valid-from", metavar="DATE", help="First day the office's endorsements hold (default: today).")
@click.option("--valid-until", metavar="DATE", help="Last day they hold (default: 5 years after --valid-from).")
@click.pass_context
def root_office_add(ctx: click.Context, card: Path, valid_from: str | None, valid_until: str | None) -> None:
    """Add an office from its card (or replace the office with its id); check its key id with the office first."""
    from stamps.roles import national

    office, replaced = national.add_office(open_desk(ctx, national.ROLE), registry.load_json_file(card),
                                           valid_from=validation.date(valid_from, "--valid-from", required=False),
                                           valid_until=validation.date(valid_until, "--valid-until", required=False))
    click.echo(f"Office {office.id} ({office.name}, {office.scope}) {'replaced' if replaced else 'added'}: key "
               f"{office.keyids[0]}, valid {office.valid_from} to {office.valid_until}. Sign with 'ocop-stamps authority root sign'.")


@root_office.command("remove")
@click.argument("office_id")
@click.pass_context
def root_office_remove(ctx: click.Context, office_id: str) -> None:
    """Take an office out of the next trust root (its endorsements then stop holding)."""
    from stamps.roles import national

    office = national.remove_office(open_desk(ctx, national.ROLE), office_id)
    click.echo(f"Office {office.id} removed from the draft. Sign with 'ocop-stamps authority root sign'.")


@authority_root.group("hub")
def root_hub() -> None:
    """The hubs (public verifiers) the next trust root lists; their keys sign inspectors' bundles."""


@root_hub.command("add")
@click.option("--id", "hub_id", required=True, help="Short id, e.g. hub-dien-bien.")
@click.option("--name", required=True, help="Who runs it.")
@click.option("--url", required=True, help="Its address, e.g. https://truyxuat.example.vn")
@click.option("--public-key", required=True, metavar="HEX_OR_PEM_FILE", help="The hub's public key: 64 hex digits or a PEM file.")
@click.pass_context
def root_hub_add(ctx: click.Context, hub_id: str, name: str, url: str, public_key: str) -> None:
    """Add a hub (or replace the hub with its id)."""
    from stamps.roles import national

    hub, replaced = national.add_hub(open_desk(ctx, national.ROLE), {"id": hub_id, "name": name, "url": url},
                                     national.public_key_from_text(public_key))
    click.echo(f"Hub {hub.id} ({hub.url}) {'replaced' if replaced else 'added'}: key {hub.keyids[0]}. "
               "Sign with 'ocop-stamps authority root sign'.")


@root_hub.command("remove")
@click.argument("hub_id")
@click.pass_context
def root_hub_remove(ctx: click.Context, hub_id: str) -> None:
    """Take a hub out of the next trust root."""
    from stamps.roles import national

    hub = national.remove_hub(open_desk(ctx, national.ROLE), hub_id)
    click.echo(f"Hub {hub.id} removed from the draft. Sign with 'ocop-stamps authority root sign'.")


@authority_root.command("show")
@click.pass_context
def root_show(ctx: click.Context) -> None:
    """Show the national key, the last trust root signed, and the offices and hubs the next one lists."""
    from stamps.roles import national

    for line in national.listing(open_desk(ctx, national.ROLE, read_only=True)):
        click.echo(line)


@authority_root.command("sign")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="root.json", show_default=True,
              help="Where to write the trust root.")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Days until this version expires (sign a new one before).")
@click.pass_context
def root_sign(ctx: click.Context, out: Path, expires_days: int) -> None:
    """Sign the offices and hubs listed as the next version of the trust root (version = last signed + 1)."""
    from stamps.roles import national

    desk = open_desk(ctx, national.ROLE)
    signed = national.sign_trust_root(desk, national.national_key(desk, passphrase()), out, expires_days=expires_days)
    click.echo(f"Trust root version {signed.version} ({len(signed.offices)} offices, {len(signed.hubs)} hubs), expires "
               f"{signed.expires:%Y-%m-%d}, written to {out} ({signed.hash[:16]}).")


@cli.group()
def endorsement() -> None:
    """Endorsements of this producer by its OCOP office."""


@endorsement.command("import")
@click.argument("json_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--trust-root", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Check the office's signature against this trust root (then held here; only a newer version of it later).")
@click.pass_context
def endorsement_import(ctx: click.Context, json_file: Path, trust_root: Path | None) -> None:
    """Keep an office's endorsement of this producer and key ('publish' then sends it to the hub)."""
    from stamps.roles.producer import import_endorsement

    imported = import_endorsement(open_instance(ctx), json_file.read_bytes(), trust_root.read_bytes() if trust_root else None)
    for warning in imported.warnings:
        click.echo(f"Warning: {warning}", err=True)
    endorsement = imported.endorsement
    checked = (f"signed by {imported.checked_by} (checked against the trust root)" if imported.checked_by
               else "office signature not checked: no trust root here (give --trust-root root.json)")
    state = "imported" if imported.new else "was already here"
    click.echo(f"Endorsement version {endorsement.version} by {endorsement.office} of {endorsement.producer.name} {state}, "
               f"{checked}.")


@endorsement.command("list")
@click.pass_context
def endorsement_list(ctx: click.Context) -> None:
    """List the endorsements kept here (the newest of each office marked 'current')."""
    from stamps.roles.producer import endorsements

    for item, digest, newest in endorsements(open_instance(ctx, read_only=True).store):
        products = ", ".join(f"{product.name} {product.stars}★ until {product.valid_until}" for product in item.products)
        click.echo(f"{digest[:16]}  {item.office}  v{item.version}{'  current' if newest else ''}  {products}")


@endorsement.command("show")
@click.argument("endorsement_hash", metavar="HASH", required=False)
@click.pass_context
def endorsement_show(ctx: click.Context, endorsement_hash: str | None) -> None:
    """Show an endorsement kept here as JSON (default: the newest)."""
    from stamps.roles.producer import find_endorsement

    item, digest = find_endorsement(open_instance(ctx, read_only=True).store, endorsement_hash)
    echo_json({"hash": digest, **item.body()})


# records -----------------------------------------------------------------------------------------
def add_list_show(group: click.Group, table: str, fields: tuple[str, ...]) -> None:
    """Give a record group its 'list' and 'show' commands."""
    label = table.replace("_", " ")

    @group.command("list", help=f"List the {label}.")
    @click.pass_context
    def list_records(ctx: click.Context) -> None:
        for row in open_instance(ctx, read_only=True).store.record_rows(table):
            summary = "  ".join(str(row["data"].get(field, "")) for field in fields)
            click.echo(f"{row['id']:>4}  {row['name']}  {summary}".rstrip())

    @group.command("show", help=f"Show one of the {label} as JSON.")
    @click.argument("record_id", type=RECORD_ID)
    @click.pass_context
    def show_record(ctx: click.Context, record_id: int) -> None:
        row = open_instance(ctx, read_only=True).store.record_row(table, record_id)
        echo_json({"id": row["id"], **{k: row[k] for k in ("producer_id",) if k in row}, **row["data"]})


PRODUCER_FIELDS = [("name", "Name, e.g. 'HTX Hợp Tiến'."),
                   ("kind", "enterprise, cooperative, cooperative_group or household."),
                   ("province", "Province (tỉnh/thành phố)."), ("commune", "Commune or ward (xã/phường)."),
                   ("address", "Street address or village."), ("phone", "Phone number."), ("email", "E-mail."),
                   ("website", "Web site."), ("tax_code", "Tax / enterprise code (10 or 10-3 digits).")]
FARM_AREA_FIELDS = [("name", "Name of the farm area."), ("kind", "growing (default), raising or raw_material."),
                    ("code", "Growing-area code (mã số vùng trồng), e.g. VN-DB-XL-0001-24."),
                    ("province", "Province."), ("commune", "Commune."), ("location", "Village or place description."),
                    ("latitude", "GPS latitude, e.g. 21.6012."), ("longitude", "GPS longitude, e.g. 103.371."),
                    ("area_ha", "Area in hectares."), ("certifications", "(repeatable) VietGAP, GlobalGAP, Hữu cơ ...")]
PRODUCT_FIELDS = [("name", "Product name (printed on every stamp)."), ("category", "Category, e.g. 'Đồ uống - Chè'."),
                  ("brand", "Brand / trademark."), ("gtin", "GTIN (barcode), check digit verified."),
                  ("standards", "(repeatable) Standard applied, e.g. TCVN 11041."),
                  ("description", "Short description."), ("ocop_stars", "OCOP star rating: 3, 4 or 5."),
                  ("ocop_certificate_no", "OCOP certificate number."), ("ocop_level", "province or national."),
                  ("ocop_issued", "Certificate issue date."),
                  ("ocop_expires", "Certificate expiry (default: issue + 36 months).")]
EDIT_EPILOG = ("Only the fields given change (an empty value '' clears an optional one); the whole record is checked "
               "again. Batches signed before keep the record as it was when they were signed.")
IMAGE_OPTION = click.option("--image", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                            help="Product thumbnail (PNG/JPEG/WebP, at most 20 KB).")


def producer_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--producer", "producer_id", type=RECORD_ID, help=help_text)


@cli.group()
def producer() -> None:
    """Producers (chủ thể OCOP)."""


@producer.command("add")
@record_options(PRODUCER_FIELDS)
@click.pass_context
def producer_add(ctx: click.Context, json_file: Path | None, **fields: Any) -> None:
    """Add a producer."""
    new_id = registry.add_producer(open_instance(ctx).store, merged_input(json_file, fields))
    click.echo(f"Producer {new_id} added.")


@producer.command("edit", epilog=EDIT_EPILOG)
@click.argument("record_id", metavar="ID", type=RECORD_ID)
@record_options(PRODUCER_FIELDS)
@click.pass_context
def producer_edit(ctx: click.Context, record_id: int, json_file: Path | None, **fields: Any) -> None:
    """Correct a producer: the fields given replace the stored ones."""
    registry.edit_producer(open_instance(ctx).store, record_id, _changes(merged_input(json_file, fields)))
    click.echo(f"Producer {record_id} updated.")


add_list_show(producer, "producers", ("kind", "province"))


@cli.group()
def farm() -> None:
    """Farm areas (vùng trồng / vùng nuôi / vùng nguyên liệu)."""


@farm.command("add")
@producer_option("Id of the producer that owns the farm area.")
@record_options(FARM_AREA_FIELDS)
@click.pass_context
def farm_add(ctx: click.Context, producer_id: int | None, json_file: Path | None, **fields: Any) -> None:
    """Add a farm area to a producer."""
    data = merged_input(json_file, fields)
    owner = _owner_id(data, producer_id, "producer_id", "--producer")
    new_id = registry.add_farm_area(open_instance(ctx).store, owner, data)
    click.echo(f"Farm area {new_id} added.")


@farm.command("edit", epilog=EDIT_EPILOG)
@click.argument("record_id", metavar="ID", type=RECORD_ID)
@producer_option("Id of the producer the farm area belongs to (to move it).")
@record_options(FARM_AREA_FIELDS)
@click.pass_context
def farm_edit(ctx: click.Context, record_id: int, producer_id: int | None, json_file: Path | None, **fields: Any) -> None:
    """Correct a farm area: the fields given replace the stored ones."""
    data = merged_input(json_file, fields)
    owner = _given_owner_id(data, producer_id, "producer_id")
    registry.edit_farm_area(open_instance(ctx).store, record_id, _changes(data, owner), owner)
    click.echo(f"Farm area {record_id} updated.")


add_list_show(farm, "farm_areas", ("code", "province"))


@cli.group()
def product() -> None:
    """Products and their OCOP certificates."""


@product.command("add")
@producer_option("Id of the producer.")
@IMAGE_OPTION
@record_options(PRODUCT_FIELDS)
@click.pass_context
def product_add(ctx: click.Context, producer_id: int | None, image: Path | None, json_file: Path | None, **fields: Any) -> None:
    """Add a product."""
    data = merged_input(json_file, fields)
    owner = _owner_id(data, producer_id, "producer_id", "--producer")
    new_id = registry.add_product(open_instance(ctx).store, owner, data, image.read_bytes() if image else None)
    click.echo(f"Product {new_id} added.")


@product.command("edit", epilog=EDIT_EPILOG)
@click.argument("record_id", metavar="ID", type=RECORD_ID)
@producer_option("Id of the producer (to move the product to another one).")
@IMAGE_OPTION
@record_options(PRODUCT_FIELDS)
@click.pass_context
def product_edit(ctx: click.Context, record_id: int, producer_id: int | None, image: Path | None, json_file: Path | None,
                 **fields: Any) -> None:
    """Correct a product: the fields given replace the stored ones."""
    data = merged_input(json_file, fields)
    owner = _given_owner_id(data, producer_id, "producer_id")
    changes = _changes(data, owner, image)
    registry.edit_product(open_instance(ctx).store, record_id, changes, owner, image.read_bytes() if image else None)
    click.echo(f"Product {record_id} updated.")


add_list_show(product, "products", ("category", "ocop_stars"))


def _owner_id(data: dict[str, Any], option_value: int | None, field: str, option: str) -> int:
    """The owning record's id from the option, else from the JSON file; required."""
    value = _given_owner_id(data, option_value, field)
    if value is None:
        raise click.ClickException(f"{option} is required (or '{field}' in the JSON file).")
    return value


def _given_owner_id(data: dict[str, Any], option_value: int | None, field: str) -> int | None:
    """The owning record's id from the option, else from the JSON file, else None (an edit that keeps the owner)."""
    from_file = data.pop(field, None)
    value = option_value if option_value is not None else from_file
    return None if value is None else validation.integer(value, field, minimum=1, maximum=MAX_RECORD_ID)


def _changes(fields: dict[str, Any], *others: Any) -> dict[str, Any]:
    """The fields an edit changes; refuses an edit that changes nothing."""
    if not fields and all(other is None for other in others):
        raise click.ClickException("Nothing to change: give the fields to correct (e.g. --name '...') or --from-json FILE.")
    return fields


# batches --------------------------------------------------------------------------------------------
@cli.group()
def batch() -> None:
    """Batches (lô sản xuất) and their signed records."""


@batch.command("create")
@click.option("--product", "product_id", type=RECORD_ID, help="Id of the product.")
@click.option("--farm-area", "farm_area_ids", type=RECORD_ID, multiple=True, help="(repeatable) Id of a farm area of the batch.")
@click.option("--step", "steps", multiple=True, help="(repeatable) Origin step as 'STEP|DATE|PLACE[|LOCATION CODE]'.")
@record_options([("lot_code", "Lot code (mã lô)."), ("quantity", "Number of units (1 to 10,000,000)."),
                 ("harvest_date", "Harvest date (YYYY-MM-DD or DD/MM/YYYY)."),
                 ("production_date", "Production / packing date (NSX)."), ("expiry_date", "Expiry date (HSD)."),
                 ("packing_facility", "Packing facility name."), ("packing_address", "Packing facility address.")])
@click.pass_context
def batch_create(ctx: click.Context, product_id: int | None, farm_area_ids: tuple[int, ...], steps: tuple[str, ...],
                 json_file: Path | None, **fields: Any) -> None:
    """Create and sign a batch record (immutable: a correction is a new batch)."""
    data = merged_input(json_file, fields)
    if steps:
        data["origin_steps"] = [_parse_step(step) for step in steps]
    product_ref = _owner_id(data, product_id, "product_id", "--product")
    areas_in_file = data.pop("farm_area_ids", None)
    areas = list(farm_area_ids) if farm_area_ids else (areas_in_file if areas_in_file is not None else [])
    instance = open_instance(ctx)
    created = registry.create_batch(instance.store, load_key(instance, instance.signing_key_id), product_ref, areas, data)
    click.echo(f"Batch {created.digest[:16]} signed: lot {created.record['batch']['lot_code']}, "
               f"{created.record['batch']['quantity']:,} units. Issue stamps with: ocop-stamps issue {created.digest[:16]} --count N")
    for warning in registry.batch_warnings(instance.store, created):
        click.echo(f"Warning: {warning}", err=True)


def _parse_step(text: str) -> dict[str, str]:
    parts = [part.strip() for part in text.split("|")]
    if len(parts) not in (3, 4):
        raise click.ClickException(f"--step {text!r} must be 'STEP|DATE|PLACE' or 'STEP|DATE|PLACE|LOCATION CODE'.")
    return dict(zip(("step", "date", "place", "location_code"), parts))


@batch.command("list")
@click.pass_context
def batch_list(ctx: click.Context) -> None:
    """List batches with issued serials, recalls and serials recorded but never written."""
    store = open_instance(ctx, read_only=True).store
    for item in registry.list_batches(store):
        record = item.record
        recall = "  RECALLED" if item.recall else ""
        unwritten = _unwritten(ctx, store, item)
        marker = "  NOT WRITTEN " + ", ".join(f"{entry['first']}-{entry['last']}" for entry in unwritten) if unwritten else ""
        click.echo(f"{item.digest[:16]}  {record['batch']['lot_code']}  {record['product']['name']}  "
                   f"issued {item.issued:,}/{record['batch']['quantity']:,}  ({item.origin}){recall}{marker}")
        for entry in unwritten:
            click.echo(f"    serials {entry['first']}-{entry['last']} were never written; write them with: {entry['reprint']}")


def _unwritten(ctx: click.Context, store: Store, item: StoredBatch) -> list[dict[str, Any]]:
    """The batch's serials recorded but never written (a run was killed), each with the command that writes them."""
    return [{"first": serials.first, "last": serials.last, "reprint": reprint_command(item, serials, _program(ctx))}
            for serials in unwritten_serials(store, item)]


@batch.command("show")
@click.argument("batch_ref")
@click.pass_context
def batch_show(ctx: click.Context, batch_ref: str) -> None:
    """Show a batch's signed record as JSON (BATCH: digest prefix or lot code), with the serials never written."""
    store = open_instance(ctx, read_only=True).store
    item = registry.find_batch(store, batch_ref)
    echo_json({"digest": item.digest, "issued": item.issued, "recall": item.recall, "origin": item.origin, "record": item.record,
               "unwritten": _unwritten(ctx, store, item)})


@batch.command("export")
@click.argument("batch_ref")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.pass_context
def batch_export(ctx: click.Context, batch_ref: str, out: Path | None) -> None:
    """Export a signed batch record for offline inspectors ('batch import' on their side)."""
    document = registry.find_batch(open_instance(ctx, read_only=True).store, batch_ref).signed.export()
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"Batch record written to {out}")
    else:
        click.echo(text)


@batch.command("import")
@click.argument("json_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def batch_import(ctx: click.Context, json_file: Path) -> None:
    """Import a signed batch record; its key must be in the trust store and its signature must match."""
    document = registry.load_json_file(json_file)
    item = registry.import_batch(open_instance(ctx).store, document)
    click.echo(f"Batch {item.digest[:16]} imported: lot {item.record['batch']['lot_code']}, {item.record['product']['name']}")


@cli.command()
@click.argument("batch_ref")
@click.option("--reason", required=True, help="Why the batch is recalled (shown to shoppers).")
@click.option("--mandatory", is_flag=True, help="A mandatory recall ordered by an authority (default: voluntary).")
@click.option("--on", "on_text", metavar="DATE", help="Date of the recall decision (default: today).")
@click.pass_context
def recall(ctx: click.Context, batch_ref: str, reason: str, mandatory: bool, on_text: str | None) -> None:
    """Recall a batch (thu hồi): its stamps then verify as 'recalled'."""
    from stamps.roles.publishing import recall_batch

    on = validation.date(on_text, "--on", required=False)
    instance = open_instance(ctx)
    recalled = recall_batch(instance.store, batch_ref, reason, "mandatory" if mandatory else "voluntary", on,
                            _own_key(instance), dt.datetime.now(dt.timezone.utc))
    item = recalled.batch
    if recalled.earlier:
        click.echo(f"Batch {item.digest[:16]} was recalled on {item.recall and item.recall['recalled_on']}; its recall is "
                   "now signed for the hub ('ocop-stamps publish' sends it).")
        return
    click.echo(f"Batch {item.digest[:16]} (lot {item.record['batch']['lot_code']}) recalled: {item.recall and item.recall['reason']}")
    if not recalled.signed:
        click.echo("Note: this instance does not hold the batch's (unrevoked) key, so no signed recall was made for the "
                   "hub; a mandatory recall there comes from your OCOP office.", err=True)


def _own_key(instance: Instance, *, allow_revoked: bool = False) -> Callable[[str], Ed25519PrivateKey | None]:
    """The private key of a key id when this instance holds its file (the passphrase asked then), else None; a revoked
    key signs only its own revocation."""
    from keys.keyfile import load_private_key

    def load(key_id: str) -> Ed25519PrivateKey | None:
        path = instance.key_path(key_id)
        if not path.exists() or (instance.trust.get(key_id).status == "revoked" and not allow_revoked):
            return None
        return load_private_key(path, passphrase() if needs_passphrase(path) else None)
    return load


# issuing and verifying ----------------------------------------------------------------------------------
class PrintingCommand(click.Command):
    """A command whose help ends with the print formats and presets (made only when the help is shown)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with loading_modules():
            from stamps.printing.jobs import format_help
        self.epilog = "Formats and presets:\n\n" + format_help()
        super().format_epilog(ctx, formatter)


@cli.command(cls=PrintingCommand)
@click.argument("batch_ref")
@click.option("--count", type=int, help="How many new serials to issue.")
@click.option("--reprint", metavar="FIRST-LAST", help="Write already-issued serials again (issues nothing new).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (must not exist yet).")
@click.option("--format", "formats", metavar="FORMAT[:PRESET]", multiple=True, default=("pdf",), show_default=True,
              help="What to write, repeatable: pdf (A4 label sheets, preset a4-24), pdf:PRESET, zpl, tspl, svg, png, csv. "
                   "Presets are listed below.")
@click.option("--grid", metavar="COLUMNSxROWS", help="With --format pdf:custom: labels across and down, e.g. 3x8.")
@click.option("--label-size", metavar="WxH", help="With --format pdf:custom: label width x height in mm, e.g. 70x37.")
@click.option("--margins", metavar="TOPxLEFT", default="0x0", show_default=True, help="With pdf:custom: page margins in mm.")
@click.option("--gaps", metavar="COLUMNxROW", default="0x0", show_default=True, help="With pdf:custom: gaps between labels in mm.")
@click.option("--page", type=click.Choice(["a4", "a5", "letter"]), default="a4", show_default=True, help="With pdf:custom: page size.")
@click.option("--module-mm", type=click.FloatRange(0.33, 2.0), default=None,
              help="QR module size in mm, 0.33 or more. Default: the largest whole number of --dpi dots (0.375, 0.5, "
                   f"0.625 mm... at 203 dpi) that fits each label with its text at {MIN_READABLE_PT:g} pt or more; "
                   "0.5 mm for svg/png.")
@click.option("--dpi", type=click.Choice(["203", "300"]), default="203", show_default=True,
              help="Printer resolution: the dots zpl and tspl print in, and the dots a QR module is counted in for every format.")
@click.pass_context
def issue(ctx: click.Context, batch_ref: str, count: int | None, reprint: str | None, out: Path | None, formats: tuple[str, ...],
          grid: str | None, label_size: str | None, margins: str, gaps: str, page: str, module_mm: float | None, dpi: str) -> None:
    """Issue stamp codes for a batch and write them ready to print (codes.csv is always written)."""
    with loading_modules():
        from stamps.printing.jobs import CustomGrid, PrintJob, encoding_workers, parse_format
        from stamps.roles.publishing import unpublished_warning
    if (count is None) == (reprint is None):
        raise click.ClickException("Give either --count N (new serials) or --reprint FIRST-LAST.")
    if out is not None and out.exists():
        raise click.ClickException(f"{out} already exists; choose another --out folder.")
    instance = open_instance(ctx)
    item = registry.find_batch(instance.store, batch_ref)
    custom = CustomGrid(grid, label_size, margins, gaps, page)
    serials = _reprint_serials(item, reprint) if reprint else count or 0
    job = PrintJob(tuple(dict.fromkeys(parse_format(text, custom) for text in formats)), item, instance.base_url, module_mm,
                   int(dpi), encoding_workers(len(serials) if isinstance(serials, SerialRange) else serials))
    job.plans()  # a label that cannot hold the stamp fails here, before the passphrase is asked for
    signer = StampSigner(_batch_signing_key(instance, item), item, instance.base_url)
    feedback = IssueFeedback(lambda text: click.echo(text, err=True), _progress_bar, _program(ctx))
    written = issue_stamps(instance.store, job, signer, serials, output_dir=instance.output_dir, out=out, feedback=feedback)
    names = ", ".join(sorted(path.name for path in written.folder.iterdir()))
    click.echo(f"{len(written.serials):,} stamps (serials {written.serials.first}-{written.serials.last}, "
               f"{', '.join(f.name for f in job.formats)}) written to {written.folder}: {names}")
    warning = unpublished_warning(instance.store, item)
    if warning:
        click.echo(f"Warning: {warning}", err=True)


@contextlib.contextmanager
def _progress_bar(serials: SerialRange, steps: int) -> Iterator[Callable[[int], None]]:
    with click.progressbar(length=steps, label=f"Serials {serials.first}-{serials.last}", file=sys.stderr) as bar:
        yield bar.update


def _program(ctx: click.Context) -> str:
    """How commands this run recommends begin: with --instance when the instance is not the default one, and with
    --database naming the variable (never the URL: it may hold a password) when the records are in PostgreSQL."""
    root, database = where(ctx)
    words = ["ocop-stamps"] + ([] if root == default_root() else ["--instance", shlex.quote(str(root.absolute()))])
    if database is not None:
        words += ["--database", f'"${DATABASE_ENV}"']
    return " ".join(words)


def _reprint_serials(item: StoredBatch, text: str) -> SerialRange:
    return reprint_range(item, *_serial_range(text, "--reprint"))


def _batch_signing_key(instance: Instance, item: StoredBatch) -> Ed25519PrivateKey:
    if item.origin != "local":
        raise click.ClickException("This batch was imported from another producer; only its producer can issue stamps for it.")
    return load_key(instance, item.record["key_id"])


def load_key(instance: Instance, key_id: str) -> Ed25519PrivateKey:
    """A private key of the instance, asking for the passphrase only when the file is encrypted."""
    secret = passphrase() if needs_passphrase(instance.key_path(key_id)) else None
    return instance.private_key(key_id, secret)


@cli.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON shape instead of text.")
@click.option("--today", "today_text", metavar="DATE", help="Check dates as of this day (default: today).")
@click.option("--bundle", "bundle_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Verify with an inspector's bundle alone (from 'bundle fetch'), not with this instance.")
@click.option("--trust-root", "trust_root_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="With --bundle: the national trust root to pin on first use.")
@click.pass_context
def verify(ctx: click.Context, code: str, as_json: bool, today_text: str | None, bundle_file: Path | None,
           trust_root_file: Path | None) -> None:
    """Verify a stamp code or URL offline. Exit 0 genuine, 3 warning (or a stale bundle), 4 invalid."""
    today = validation.date(today_text, "--today", required=False)
    if bundle_file is None:
        outcome = open_instance(ctx, read_only=True).verifier().verify(code, today=today)
        _print_verification(ctx, outcome, as_json)
    from stamps.roles.inspector import verify_with_bundle
    outcome, opened = verify_with_bundle(_file_bytes(bundle_file), code, trust_root=_read_bytes(trust_root_file),
                                         today=today, now=dt.datetime.now(dt.timezone.utc))
    _print_verification(ctx, outcome, as_json, {**opened.bundle.info(), "stale": opened.stale})


def _print_verification(ctx: click.Context, outcome: Verification, as_json: bool, bundle: dict[str, Any] | None = None) -> NoReturn:
    """Print a verification (with the bundle it used) and exit with its class's code (a stale bundle: at least 3)."""
    if as_json:
        body = outcome.to_json() | ({"bundle": bundle} if bundle else {})
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))  # the documented key order
    else:
        click.echo(text_report(outcome))
        if bundle:
            click.echo(bundle_text(bundle))
    code = EXIT_CODES[outcome.result.outcome]
    ctx.exit(max(code, EXIT_CODES["warning"]) if bundle and bundle["stale"] and code == 0 else code)


def bundle_text(bundle: dict[str, Any]) -> str:
    line = (f"Bundle from {bundle['hub']}, data as of {bundle['as_of']} (version {bundle['version']}, "
            f"trust root version {bundle['trust_root_version']}).")
    if bundle["stale"]:
        line += f" WARNING: the bundle expired on {bundle['expires']}; fetch a fresh one ('ocop-stamps bundle fetch')."
    return line


def _read_bytes(path: Path | None) -> bytes | None:
    return None if path is None else _file_bytes(path)


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise StampError(f"Cannot read {path}: {error.strerror}.") from None


@cli.group("bundle")
def bundle_group() -> None:
    """Inspectors' bundles: everything to verify codes with no network, signed by a hub."""


@bundle_group.command("fetch")
@click.option("--hub", "hub_url", required=True, metavar="URL", help="The hub's address, e.g. https://truyxuat.dienbien.gov.vn")
@click.option("--province", help="Only this province's producers (as the hub writes it, e.g. 'Điện Biên').")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="Where to save the bundle.")
@click.option("--trust-root", "trust_root_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The national trust root to pin on first use (from the OCOP office).")
def bundle_fetch(hub_url: str, province: str | None, out: Path, trust_root_file: Path | None) -> None:
    """Download and check the hub's newest bundle; a bundle older than one already seen is refused."""
    from stamps.roles.inspector import fetch_bundle
    opened = fetch_bundle(hub_url, out, province=province, trust_root=_read_bytes(trust_root_file),
                          now=dt.datetime.now(dt.timezone.utc))
    click.echo(f"Saved {out}. " + bundle_text({**opened.bundle.info(), "stale": opened.stale}))


@bundle_group.command("sign")
@click.option("--province", help="Only this province's producers (default: all).")
@click.option("--with-records", is_flag=True, help="Include every signed batch record (larger; shows origins offline).")
@click.option("--valid-days", type=click.IntRange(1, 90), default=7, show_default=True, help="Days until the bundle is stale.")
@click.option("--key-instance", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The instance folder whose signing key signs (a hub key of the trust root; default: this one), so the "
                   "key can stay off the machine that serves the hub.")
@click.pass_context
def bundle_sign(ctx: click.Context, province: str | None, with_records: bool, valid_days: int, key_instance: Path | None) -> None:
    """Sign a bundle of this hub's data with a hub key of the trust root, for the hub to serve."""
    from stamps.roles.hub import sign_bundle
    instance = open_instance(ctx)
    keys = Instance.open(key_instance, read_only=True) if key_instance else instance
    signed = sign_bundle(instance.store, keys.signing_key(passphrase()), now=dt.datetime.now(dt.timezone.utc),
                         province=province, with_records=with_records, valid_days=valid_days)
    click.echo(f"Signed bundle version {signed.version} as of {signed.as_of}, valid until {signed.expires} "
               f"({len(signed.chain.endorsed)} endorsements, {len(signed.batches)} batch records); the hub now serves it.")


@cli.group()
def scans() -> None:
    """The verifier's scan log: per-unit counts for copy detection, clearing QA scans, retention."""


@scans.command("list")
@click.argument("batch_ref")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV (serial, scans, places, first_scanned_at, possible_copy).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.option("--copy-threshold", default=DEFAULT_COPY_THRESHOLD, show_default=True, type=click.IntRange(0, None),
              help="Places above which a unit is flagged (as 'serve --copy-threshold').")
@click.pass_context
def scans_list(ctx: click.Context, batch_ref: str, as_csv: bool, out: Path | None, copy_threshold: int) -> None:
    """List a batch's scanned units: counted scans, distinct places, first scan and the possible-copy flag."""
    from stamps import present, scanlog

    store = open_instance(ctx, read_only=True).store
    item = registry.find_batch(store, batch_ref)
    units = scanlog.unit_report(store, item.signed.digest_prefix, copy_threshold)
    if as_csv:
        _write_csv(out, present.SCAN_REPORT_COLUMNS, present.scan_report_rows(units))
    else:
        _write_text(out, present.scan_report(units, item.issued, copy_threshold))


@scans.command("clear")
@click.argument("batch_ref")
@click.option("--serials", metavar="FIRST-LAST", help="The units to clear, e.g. 1-20 (the ones scanned for QA).")
@click.option("--all", "every_unit", is_flag=True, help="Clear every unit of the batch.")
@click.pass_context
def scans_clear(ctx: click.Context, batch_ref: str, serials: str | None, every_unit: bool) -> None:
    """Forget the counted scans of some units (e.g. the producer's own QA scans); the log keeps them, uncounted."""
    from stamps import scanlog

    if (serials is None) == (not every_unit):
        raise click.ClickException("Give either --serials FIRST-LAST or --all.")
    store = open_instance(ctx).store
    item = registry.find_batch(store, batch_ref)
    first, last = (1, item.record["batch"]["quantity"]) if every_unit else _serial_range(serials or "", "--serials")
    cleared = scanlog.clear_counts(store, item, first, last)
    click.echo(f"Scan counts of {cleared:,} units (serials {first}-{last}) cleared.")


@scans.command("prune")
@click.option("--older-than", "days", required=True, type=click.IntRange(1, None), metavar="DAYS",
              help="Delete scan-log rows older than DAYS days.")
@click.pass_context
def scans_prune(ctx: click.Context, days: int) -> None:
    """Delete old rows of the scan log; each unit's counts (scans, places, first scan) stay."""
    from stamps import scanlog

    deleted = scanlog.prune_scans(open_instance(ctx).store, older_than_days=days)
    click.echo(f"{deleted:,} scans older than {days} days deleted; per-unit counts kept.")


@cli.group()
def db() -> None:
    """The instance's database: bring its schema up to date, or move it to PostgreSQL."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply the schema changes this version needs (SQLite or PostgreSQL); safe to run at any time."""
    from stamps.instance import migrate_database

    before, after = migrate_database(*where(ctx))
    click.echo(f"Schema version {after}: up to date." if before == after else f"Schema migrated from version {before} to {after}.")


@db.command("copy")
@click.option("--to", "target", required=True, metavar="URL",
              help="The PostgreSQL database to copy into (postgresql://user:password@host/db); its schema is made if missing.")
@click.pass_context
def db_copy(ctx: click.Context, target: str) -> None:
    """Copy this instance's records, batches, serials, keys, scans and counts into PostgreSQL (safe to re-run).

    Afterwards, run the commands and the verifier with --database URL (or $OCOP_STAMPS_DATABASE).
    """
    report = open_instance(ctx).copy_to(target)
    click.echo(f"{'table':<14} {'rows here':>12} {'copied now':>12} {'rows there':>12}")
    for row in report.tables:
        click.echo(f"{row.table:<14} {row.source_rows:>12,} {row.copied:>12,} {row.target_rows:>12,}")
    click.echo(f"Copied to {report.target}: no row is missing there, and all {report.batches_verified:,} batch records "
               f"verify there. Use it with: ocop-stamps --database URL ... (or ${DATABASE_ENV}).")


def _serial_range(text: str, option: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*([0-9]+)\s*-\s*([0-9]+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise click.ClickException(f"{option} takes FIRST-LAST with 1 <= FIRST <= LAST, e.g. {option} 1-20.")
    return int(match.group(1)), int(match.group(2))


def _write_text(out: Path | None, text: str) -> None:
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"Written to {out}")
    else:
        click.echo(text)


def _write_csv(out: Path | None, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    _write_text(out, buffer.getvalue().rstrip("\n"))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every network of this machine).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (threads with waitress). Default: 2 per core + 1.")
@click.option("--server", "server_name", type=click.Choice(["gunicorn", "waitress"]),
              help="WSGI server. Default: gunicorn, or waitress on Windows.")
@click.option("--dev", is_flag=True, help="Use Flask's development server instead (one process; not for production).")
@click.option("--copy-threshold", default=DEFAULT_COPY_THRESHOLD, show_default=True, type=click.IntRange(0, None),
              help="Other places (network and device, per day) a unit was scanned from above which it is shown as a possible copy.")
@click.option("--rate-limit", default=DEFAULT_RATE_LIMIT_PER_MINUTE, show_default=True, type=click.IntRange(0, None),
              help="Scans a minute one client (an IPv4 address or IPv6 /64) may make per worker before it gets 429; 0: no limit.")
@click.option("--trusted-proxies", default=0, show_default=True, type=click.IntRange(0, 10),
              help="Reverse proxies in front of the verifier whose X-Forwarded-For/-Proto are believed (1 behind nginx).")
@click.option("--keep-scans", "keep_scan_days", type=click.IntRange(1, None), metavar="DAYS",
              help="Drop scan-log rows older than DAYS, hourly (per-unit counts stay). Default: keep them all.")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log each request (never the client's IP).")
@click.option("--trust-root", "trust_root_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Run as a hub: hold this national trust root (kept; a newer version later replaces it, an older one "
                   "is refused) and take producers' publications at POST /api/v1/publish.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None, server_name: str | None, dev: bool,
          copy_threshold: int, rate_limit: int, trusted_proxies: int, keep_scan_days: int | None, access_log: bool,
          trust_root_file: Path | None) -> None:
    """Start the web verifier that stamp QR codes open (reads this instance; needs no private key)."""
    with loading_modules():
        from verify_server import create_app
        from verify_server.serve import check_port_free, default_server, default_workers
        from verify_server.serve import run as run_server
    instance = open_instance(ctx, read_only=trust_root_file is None)
    if trust_root_file is not None:
        from stamps.roles.acceptance import hold_trust_root

        root = hold_trust_root(instance.store, _file_bytes(trust_root_file))
        click.echo(f"Hub of trust root version {root.version} ({len(root.offices)} OCOP offices): publications are taken "
                   "at /api/v1/publish.", err=True)
        if any(instance.keys_dir.glob("*.pem")):
            click.echo(f"Warning: {instance.keys_dir} holds private keys; a public hub needs none. Keep the bundle key in "
                       "another instance ('bundle sign --key-instance DIR') on another machine.", err=True)
    location = instance.store.location
    server = "dev" if dev else server_name or default_server()
    workers = workers or default_workers()
    app = create_app({"INSTANCE": str(where(ctx).root), "DATABASE": where(ctx).database, "COPY_THRESHOLD": copy_threshold, "RATE_LIMIT_PER_MINUTE": rate_limit,
                      "TRUSTED_PROXIES": trusted_proxies, "KEEP_SCAN_DAYS": keep_scan_days})
    check_port_free(host, port)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"Verifier for {location} on http://{shown_host}:{port}/ ({server}, {workers} workers). Stop with Ctrl+C.", err=True)
    run_server(app, host=host, port=port, workers=workers, server=server, access_log=access_log)


@cli.command()
@click.option("--hub", "hub_url", metavar="URL",
              help="The hub's address, e.g. https://truyxuat.example.vn (remembered: later runs need no --hub).")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def publish(ctx: click.Context, hub_url: str | None, files: tuple[Path, ...]) -> None:
    """Send the hub what it does not hold yet: endorsements, signed batch records, recalls and revocations.

    FILES (optional): statements or exported batch records to send as well, e.g. an OCOP office's revocation.
    Safe to run again at any time; without a network, everything stays in the outbox for the next run.
    """
    from stamps.roles.publishing import publish as publish_outbox

    report = publish_outbox(open_instance(ctx).store, hub_url, [_file_bytes(path) for path in files])
    for note in report.held_back:
        click.echo(f"Warning: {note}", err=True)
    click.echo(report.summary())
    if report.held_back and not (report.accepted or report.held):
        ctx.exit(1)  # nothing could be published: the user has something to fix first


@cli.command()
@click.option("--dir", "root", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create the demo instance (must not exist; default: a new temporary folder).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port of the demo verifier.")
@click.option("--lan", is_flag=True, help="Issue the stamps for this machine's LAN address, so a phone on the same Wi-Fi can scan them.")
@click.option("--base-url", help="Verifier address the demo stamps carry (default: http://localhost:PORT, or the LAN address with --lan).")
@click.option("--serve/--no-serve", "serving", default=True, show_default=True,
              help="Start the verifier on this machine and print a stamp URL to open.")
def demo(root: Path | None, port: int, lan: bool, base_url: str | None, serving: bool) -> None:
    """Run the whole flow on a throw-away instance: records, a signed batch, 20 stamps, verification, the verifier."""
    with loading_modules():
        from stamps.demo import demo_data, run_demo
        from stamps.demo_chain import run_chain_demo
        from verify_server.serve import check_port_free
    if root is not None and root.exists():
        raise click.ClickException(f"{root} already exists; the demo needs a new folder.")
    host = "0.0.0.0" if lan else "127.0.0.1"
    base_url = base_url or f"http://{demo_host(lan)}:{port}"
    if serving:
        check_port_free(host, port)
    root = root or Path(tempfile.mkdtemp(prefix="ocop-stamps-demo-"))
    run = run_demo(root, base_url)
    record = run.batch.record
    click.echo(f"Demo instance: {run.instance_root}  (key passphrase: the demo's built-in one; never use it for real keys)")
    click.echo(f"Signed batch {run.batch.digest[:16]}: {record['product']['name']}, lot {record['batch']['lot_code']}, "
               f"{record['batch']['quantity']} units")
    click.echo(f"20 stamps: {run.output / 'stamps.pdf'} (A4 label sheet), {run.output / 'codes.csv'}, "
               f"QR images in {run.output / 'svg'} and {run.output / 'png'}")
    click.echo(f"\n$ ocop-stamps verify {run.genuine_url}\n{text_report(run.genuine)}")
    click.echo(f"\n$ ocop-stamps verify {run.tampered_url}   # one character changed\n{text_report(run.tampered)}")
    click.echo(f"\nTry it yourself: ocop-stamps --instance {run.instance_root} verify \"$(sed -n 2p {run.output / 'codes.csv'} | cut -d, -f2)\"")
    chain, at_hub = run_chain_demo(run.instance_root, run.batch, run.genuine_url, base_url, demo_data()["chain"])
    click.echo(f"\nThe trust chain ({chain.folder}): {chain.office_name} endorsed the producer's key and its OCOP product; the "
               f"national root lists the office ({chain.trust_root.name}); the cooperative published {chain.published} items "
               f"(its endorsement and its batch) to a local hub ({chain.hub_root}).")
    click.echo(f"$ ocop-stamps --instance {chain.hub_root} verify {run.genuine_url}")
    click.echo("\n".join(line for line in text_report(at_hub).splitlines() if line.startswith(("GENUINE", "Sản phẩm OCOP"))))
    if serving:
        serve_demo(chain.hub_root, host, port, local_stamp_url(run.genuine_url, base_url, port))


def demo_host(lan: bool) -> str:
    from verify_server.background import lan_address  # loaded with the verifier by demo()

    if not lan:
        return "localhost"
    address = lan_address()
    if address is None:
        raise click.ClickException("This machine has no LAN address (is it connected to Wi-Fi or a network?); run the demo without --lan.")
    return address


def local_stamp_url(stamp_url: str, base_url: str, port: int) -> str:
    """The stamp URL itself when it points at the demo verifier, else the same path on this machine."""
    if base_url.rstrip("/").lower().endswith(f":{port}"):
        return stamp_url
    return f"http://127.0.0.1:{port}/" + stamp_url.split("/", 3)[3]


def serve_demo(instance_root: Path, host: str, port: int, url: str) -> None:
    """Start the verifier, print the one URL to open, and keep serving until Enter (at once when not interactive)."""
    from verify_server.background import start_verifier, stop_verifier  # loaded with the verifier by demo()

    child = start_verifier(instance_root, host, port, quiet=not sys.stdin.isatty())
    try:
        click.echo(f"\nThe verifier is running. Open this stamp in a browser (Mở tem này trong trình duyệt):\n  {url}")
        if sys.stdin.isatty():
            click.echo("Scan the QR images with a phone on the same network when the stamps carry this machine's LAN address "
                       "(--lan). Press Enter to stop the verifier.")
            sys.stdin.readline()
        else:
            click.echo("(Not an interactive terminal: the verifier answered and is stopped again. "
                       f"Start it with: ocop-stamps --instance {instance_root} serve --port {port})")
    except KeyboardInterrupt:
        pass
    finally:
        stop_verifier(child)


def main(argv: list[str] | None = None) -> None:
    """Console entry point (ocop-stamps); the process ends with it."""
    try:
        use_utf8_output()
        cli.main(args=argv, prog_name="ocop-stamps")
    except KeyboardInterrupt:  # between click's own handlers
        _exit_interrupted()
    finally:
        _quiet_ctrl_c()  # Ctrl-C while Python shuts down: no traceback either


def use_utf8_output() -> None:
    """Vietnamese text on any console: Windows sends redirected output through its ANSI code page otherwise."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")


if _SIGINT_BEFORE_LOADING is not None:  # the module is defined: commands handle Ctrl-C themselves from here on
    signal.signal(signal.SIGINT, _SIGINT_BEFORE_LOADING)

if __name__ == "__main__":
    main()
