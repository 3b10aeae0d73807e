"""Imports every module that registers job handlers or inbound kinds (app and workers use it)."""

from dropwire.connectors.elasticpath import tasks as elasticpath_tasks
from dropwire.delivery import relay
from dropwire.feeds import tasks as feeds_tasks
from dropwire.jobs import worker
from dropwire.sales import tasks as sales_tasks

__all__ = ["elasticpath_tasks", "feeds_tasks", "relay", "sales_tasks", "worker"]
