import subprocess
import sys

from sandbox.uid_lease import lease_uid


def test_a_held_uid_is_skipped_and_freed_on_release():
    first = lease_uid(61000)
    second = lease_uid(61000)
    assert (first.uid, second.uid) == (61000, 61001)
    first.release()
    third = lease_uid(61000)
    assert third.uid == 61000
    second.release()
    third.release()


def test_a_lease_held_by_another_process_is_respected_and_dies_with_it():
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from sandbox.uid_lease import lease_uid; "
            "lease = lease_uid(62000); print(lease.uid, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "62000"
        mine = lease_uid(62000)
        assert mine.uid == 62001
        mine.release()
    finally:
        holder.kill()
        holder.wait()
    after = lease_uid(62000)
    assert after.uid == 62000
    after.release()
