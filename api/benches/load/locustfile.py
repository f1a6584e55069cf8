"""Locust users for `cargo bench -p zhiban-api --bench load`: each user is one resident walking
失业登记 to 提交 (six turns) through the service, with the scripted model on the wire. The bench
writes the residents (synthetic, one per user) to ZHIBAN_LOAD_RESIDENTS and reads Locust's CSV.
"""
import itertools
import json
import os
import random
import threading
import time

from locust import HttpUser, constant, task
from locust.exception import StopUser

RESIDENTS = [json.loads(l) for l in open(os.environ["ZHIBAN_LOAD_RESIDENTS"], encoding="utf-8")]
TARGET = len(RESIDENTS)
# Seconds a resident takes to type the next answer ("lo,hi"; "0,0" = back to back).
THINK = tuple(float(x) for x in os.environ.get("ZHIBAN_LOAD_THINK", "0,0").split(","))
_next = itertools.count()
_done = itertools.count(1)
_lock = threading.Lock()
TURNS = [
    "九月一号开始就没上班了",
    "合同到期了公司没跟我续",
    "还是想做物流仓储管理方面的工作",
    "身体挺好的，没什么毛病",
    "要领的",
    "对的都没问题，确认",
]


class Resident(HttpUser):
    wait_time = constant(0)

    @task
    def walk(self):
        with _lock:
            i = next(_next)
        if i >= TARGET:
            raise StopUser()
        r = RESIDENTS[i]
        with self.client.post(
            "/v1/agents/unemployment_registration/sessions",
            json={"metadata": {"applicant": {"name": r["name"], "id_type": "居民身份证", "id_number": r["id_number"]}}},
            name="create",
            catch_response=True,
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"create {resp.status_code}: {resp.text[:200]}")
                raise StopUser()
            sid = resp.json()["session_id"]
        state = None
        for n, text in enumerate(TURNS):
            if THINK[1] > 0:
                time.sleep(random.uniform(*THINK))  # gevent-patched: yields to other users
            with self.client.post(
                f"/v1/sessions/{sid}/messages",
                json={"text": text},
                name=f"turn {n + 1}",
                catch_response=True,
            ) as resp:
                if resp.status_code != 200:
                    resp.failure(f"turn {n + 1} {resp.status_code}: {resp.text[:200]}")
                    raise StopUser()
                state = resp.json()["state"]
        if state != "submitted":
            # Recorded as a failure of the last turn's name so that the CSV counts it.
            self.environment.events.request.fire(
                request_type="FLOW", name="outcome", response_time=0, response_length=0,
                exception=Exception(f"ended {state}"), context={},
            )
        with _lock:
            done = next(_done)
        if done >= TARGET:
            self.environment.runner.quit()
        raise StopUser()
