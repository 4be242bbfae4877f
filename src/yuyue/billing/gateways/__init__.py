"""Payment gateways behind one interface (see base.Gateway)."""

from __future__ import annotations

from yuyue.core.errors import DomainError

from .alipay import AlipayGateway
from .base import Gateway, Notification
from .sandbox import SandboxGateway
from .wechatpay import WeChatPayGateway

_GATEWAYS: dict[str, type[Gateway]] = {
    "sandbox": SandboxGateway,
    "wechat": WeChatPayGateway,
    "alipay": AlipayGateway,
}


def get_gateway(name: str) -> Gateway:
    cls = _GATEWAYS.get(name)
    if cls is None:
        raise DomainError("not_found")
    return cls()


__all__ = ["Gateway", "Notification", "get_gateway"]
