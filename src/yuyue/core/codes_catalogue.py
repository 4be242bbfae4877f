"""The error catalogue: every refusal's stable code, its HTTP status and its message in English
and zh-Hans, side by side (docs/adr/0002-error-catalogue.md). Adding a code is one line here;
`manage.py error_codes --write` then lists it in docs/api.md. `DomainError` (errors.py) raises
them.
"""

from __future__ import annotations

# code: (http status, English, 简体中文)
CATALOGUE: dict[str, tuple[int, str, str]] = {
    # generic
    "invalid_input": (422, "The request is not valid.", "请求参数无效。"),
    "not_found": (404, "Not found.", "未找到。"),
    "auth_required": (401, "Please sign in.", "请先登录。"),
    "forbidden": (403, "You may not do this.", "无权执行此操作。"),
    "method_not_allowed": (
        405,
        "This address does not take this method.",
        "该地址不支持此请求方法。",
    ),
    "payload_too_large": (413, "The request body is too large.", "请求内容过大。"),
    "internal_error": (500, "Something went wrong on our side.", "服务器内部错误。"),
    "too_many_requests": (
        429,
        "Too many tries. Try again in {seconds} s.",
        "尝试次数过多，请 {seconds} 秒后再试。",
    ),
    "idempotency_key_reused": (
        422,
        "This Idempotency-Key was already used for a different request.",
        "该幂等键已用于另一个不同的请求。",
    ),
    "idempotency_key_invalid": (
        422,
        "The Idempotency-Key must be 1 to 100 characters.",
        "幂等键须为 1 到 100 个字符。",
    ),
    # accounts
    "invalid_phone": (422, "This is not a valid mobile phone number.", "手机号码格式不正确。"),
    "invalid_credentials": (401, "Wrong phone number or password.", "手机号或密码错误。"),
    "otp_invalid": (401, "The code is wrong or has expired.", "验证码错误或已过期。"),
    "otp_too_many_attempts": (
        429,
        "Too many wrong codes. Ask for a new code.",
        "验证码错误次数过多，请重新获取。",
    ),
    "otp_too_soon": (
        429,
        "A code was sent moments ago. Wait {seconds} s.",
        "验证码刚刚已发送，请 {seconds} 秒后再试。",
    ),
    "wechat_login_failed": (401, "WeChat login failed: {reason}", "微信登录失败：{reason}"),
    "wechat_not_configured": (
        409,
        "WeChat sign-in is not set up here: sign in with your phone.",
        "本平台尚未开通微信登录，请使用手机号登录。",
    ),
    "wechat_unavailable": (
        503,
        "WeChat could not be reached. Try again.",
        "暂时无法连接微信，请重试。",
    ),
    "phone_taken": (409, "This phone number is already registered.", "该手机号已注册。"),
    "weak_password": (422, "The password is too weak: {reason}", "密码强度不足：{reason}"),
    "account_disabled": (403, "This account is disabled.", "该账号已停用。"),
    "owner_role_protected": (
        403,
        "An owner's role can only be changed by the platform's operators.",
        "店主的角色只能由平台运营人员变更。",
    ),
    "last_owner": (409, "A merchant must keep at least one owner.", "商家至少需保留一位店主。"),
    # catalog
    "merchant_inactive": (409, "This merchant is not open for bookings.", "该商家暂不接受预约。"),
    "service_inactive": (409, "This service is not open for bookings.", "该服务暂不接受预约。"),
    "wrong_service_kind": (422, "This service is not booked this way.", "该服务不支持此预约方式。"),
    "invalid_form": (422, "Some answers are not valid.", "部分表单内容填写有误。"),
    "invalid_timezone": (422, "Unknown time zone.", "未知时区。"),
    "slug_taken": (409, "Another merchant has this address name (slug).", "该商家地址名已被占用。"),
    # scheduling
    "invalid_slot_range": (
        422,
        "A slot must end after it starts.",
        "时段的结束时间必须晚于开始时间。",
    ),
    "slot_overlaps": (409, "This slot overlaps an existing slot.", "该时段与已有时段重叠。"),
    "slot_exists": (409, "A slot already starts at this time.", "该开始时间已有时段。"),
    "capacity_below_booked": (
        409,
        "Capacity cannot go below the {booked} places already booked.",
        "容量不能低于已预约的 {booked} 个名额。",
    ),
    "invalid_date_range": (
        422,
        "The date range is not valid (at most {max_days} days).",
        "日期范围无效（最多 {max_days} 天）。",
    ),
    "invalid_hours": (422, "Working hours are not valid.", "工作时间无效。"),
    # booking
    "slot_full": (409, "This slot is full.", "该时段已约满。"),
    "slot_closed": (409, "This slot is closed.", "该时段已关闭预约。"),
    "slot_has_room": (409, "This slot has places free: book it.", "该时段尚有名额，请直接预约。"),
    "already_waiting": (
        409,
        "You are already on this slot's waiting list.",
        "您已在该时段的候补名单中。",
    ),
    "reschedule_not_allowed": (
        409,
        "Only a booked or unpaid hall-slot booking can move to another time.",
        "只有已预约或待支付的时段预约可以改期。",
    ),
    "reschedule_price_differs": (
        409,
        "That time costs a different price: cancel and book it instead.",
        "该时段价格不同，请取消后重新预约。",
    ),
    "slot_past": (409, "This slot has already started or passed.", "该时段已开始或已结束。"),
    "booking_closed": (
        409,
        "Bookings for this slot closed at {deadline}.",
        "该时段已于 {deadline} 截止预约。",
    ),
    "per_user_limit": (
        409,
        "You can book this slot at most {limit} time(s).",
        "每人最多可预约该时段 {limit} 次。",
    ),
    "invalid_places": (
        422,
        "The number of places must be between 1 and {max}.",
        "预约人数须在 1 到 {max} 之间。",
    ),
    "participants_mismatch": (
        422,
        "Give one participant form for each of the {places} places.",
        "请为 {places} 个名额各填写一份参与人信息。",
    ),
    "provider_busy": (409, "The provider is not free at this time.", "服务人员在该时间已有安排。"),
    "provider_unavailable": (
        409,
        "The provider does not work at this time.",
        "服务人员该时间不在工作时间内。",
    ),
    "provider_unqualified": (
        409,
        "The provider does not offer this service.",
        "该服务人员不提供此项服务。",
    ),
    "time_past": (409, "This time has already passed.", "该时间已过去。"),
    "time_off_step": (
        422,
        "Start times go in steps of {step} minutes.",
        "开始时间须按 {step} 分钟间隔选择。",
    ),
    "cancel_never": (
        409,
        "Bookings of this service cannot be cancelled.",
        "该服务的预约不可取消。",
    ),
    "cancel_after_start": (
        409,
        "Bookings can only be cancelled before they start.",
        "预约开始后不可取消。",
    ),
    "cancel_checked_in": (
        409,
        "A checked-in booking cannot be cancelled.",
        "已核销的预约不可取消。",
    ),
    "already_cancelled": (409, "This booking is already cancelled.", "该预约已取消。"),
    "reason_required": (422, "Please give a reason.", "请填写原因。"),
    # order life
    "illegal_transition": (
        409,
        "This order cannot take the step '{step}' while it is {state}.",
        "订单当前状态为 {state}，不能执行“{step}”。",
    ),
    "step_too_early": (
        409,
        "Too early for '{step}': it can be done from {at} on.",
        "现在执行“{step}”为时过早，可于 {at} 起操作。",
    ),
    "verification_failed": (
        422,
        "Wrong verification code. {left} tries left.",
        "核销码错误，还可尝试 {left} 次。",
    ),
    "verification_locked": (
        423,
        "Too many wrong codes: ask the customer or support to unlock.",
        "核销码错误次数过多，请联系客户或客服。",
    ),
    "no_provider_available": (
        409,
        "No qualified provider can come at this time.",
        "该时间暂无可服务的人员。",
    ),
    "outside_service_area": (409, "No provider serves this address.", "该地址不在服务范围内。"),
    "pay_whole_package": (
        409,
        "This date is part of a package: pay the package as one.",
        "该日期属于包月套餐，请整体支付套餐。",
    ),
    "invalid_image": (
        422,
        "That is not a picture we can use (JPEG, PNG, WebP or GIF, up to the size allowed).",
        "无法使用该图片（支持 JPEG、PNG、WebP 或 GIF，且不超过大小限制）。",
    ),
    "image_too_large": (
        413,
        "The file is larger than allowed ({max_mb} MB).",
        "文件超过大小限制（{max_mb} MB）。",
    ),
    "image_too_big": (
        422,
        "The picture has more pixels than allowed.",
        "图片像素超过限制。",
    ),
    "application_not_pending": (
        409,
        "This application is not waiting for a review.",
        "该申请不在待审核状态。",
    ),
    "real_name_mismatch": (
        422,
        "The name and ID number do not match.",
        "姓名与身份证号不一致。",
    ),
    "too_many_addresses": (
        409,
        "You have saved as many addresses as allowed.",
        "保存的地址已达上限。",
    ),
    "address_required": (
        422,
        "Say where the service is: an address is needed.",
        "请填写上门服务的地址。",
    ),
    "series_conflicts": (
        409,
        "Some dates of this series cannot be booked.",
        "该周期预约中有日期无法预约。",
    ),
    # money
    "invalid_amount": (
        422,
        "Amounts are whole fen between 1 and {max}.",
        "金额须为 1 到 {max} 之间的整数（分）。",
    ),
    "insufficient_funds": (409, "The balance is not enough.", "余额不足。"),
    "hold_closed": (409, "This hold was already posted or released.", "该冻结已结算或释放。"),
    "offer_expired": (409, "This offer has timed out.", "该派单已超时。"),
    "offer_not_pending": (409, "This offer was already answered.", "该派单已处理。"),
    "already_taken": (
        409,
        "Another provider has taken this order.",
        "该订单已被其他服务人员接走。",
    ),
    "provider_at_capacity": (
        409,
        "The provider has as many open orders as allowed.",
        "该服务人员进行中的订单已达上限。",
    ),
    "location_too_frequent": (
        429,
        "Positions are taken at most every {seconds} s.",
        "位置上报间隔不少于 {seconds} 秒。",
    ),
    "need_closed": (409, "This need is no longer open.", "该需求已关闭。"),
    "already_applied": (409, "You have applied to this need already.", "您已报名该需求。"),
    "nothing_to_pay": (409, "This order has nothing to pay.", "该订单无需支付。"),
    "payment_window_closed": (
        409,
        "The time to pay this order has passed.",
        "该订单的支付时间已过。",
    ),
    "bad_signature": (400, "The notification's signature is not valid.", "通知签名无效。"),
    "unknown_payment": (404, "No payment has this number.", "支付单号不存在。"),
    "unknown_refund": (404, "No refund has this number.", "退款单号不存在。"),
    "amount_mismatch": (400, "The amount does not match the payment.", "金额与支付单不符。"),
    "withdrawal_too_small": (
        422,
        "The smallest withdrawal is {min} fen.",
        "单次提现不少于 {min} 分。",
    ),
    "withdrawal_decided": (409, "This withdrawal was already decided.", "该提现申请已处理。"),
    "nothing_to_refund": (409, "This order has no payment to refund.", "该订单没有可退款的支付。"),
    "refund_exceeds_payment": (
        409,
        "That is more than is left to refund.",
        "退款金额超过可退金额。",
    ),
    "coupon_not_valid": (409, "This coupon cannot be claimed now.", "该优惠券当前不可领取。"),
    "coupon_limit_reached": (
        409,
        "You have claimed this coupon as often as allowed.",
        "您已达到该优惠券的领取上限。",
    ),
    "coupon_sold_out": (409, "All of this coupon have been claimed.", "该优惠券已被领完。"),
    "coupon_not_applicable": (
        409,
        "This coupon cannot be used on this order.",
        "该优惠券不适用于此订单。",
    ),
    "quote_expired": (
        409,
        "This quote has expired: ask for a new one.",
        "报价已过期，请重新报价。",
    ),
    "quote_mismatch": (
        422,
        "The quote is for another service, time or quantity.",
        "报价与所选服务、时间或数量不符。",
    ),
    "quote_used": (409, "This quote was already used.", "该报价已被使用。"),
    "order_settled": (
        409,
        "This order was already settled with the merchant: ask an operator.",
        "该订单已与商家结算，请联系平台客服处理。",
    ),
    "gateway_not_configured": (
        409,
        "Payment through {gateway} is not set up here.",
        "本平台尚未开通 {gateway} 支付。",
    ),
    "quiz_failed": (
        422,
        "{right} of {of} answers right: read the lessons again and retry.",
        "答对 {right}/{of} 题，请复习课程后重试。",
    ),
    "training_required": (
        409,
        "Pass the required training first: {courses}.",
        "请先完成必修培训：{courses}。",
    ),
    "address_not_found": (
        422,
        "No place was found for this address: check it, or share where you are.",
        "未找到该地址，请检查地址或使用当前位置。",
    ),
    "geocoding_not_configured": (
        409,
        "Finding an address on the map is not set up here: share where you are instead.",
        "本平台尚未开通地址定位，请使用当前位置。",
    ),
    "geocoding_unavailable": (
        503,
        "The map service did not answer: try again later.",
        "地图服务暂时不可用，请稍后重试。",
    ),
    "gateway_error": (
        502,
        "The payment service ({gateway}) did not answer as expected: try again later.",
        "支付服务（{gateway}）暂时异常，请稍后重试。",
    ),
    "wechat_login_required": (
        409,
        "Sign in with WeChat first: WeChat Pay needs your WeChat account.",
        "请先使用微信登录：微信支付需要您的微信账号。",
    ),
    "wait_longer": (
        409,
        "Wait {minutes} minutes after arriving (and after the start) before reporting a no-show.",
        "请在到达（且已过开始时间）{minutes} 分钟后再报告客户未到场。",
    ),
    # loyalty
    "insufficient_points": (
        409,
        "Not enough points: {available} available.",
        "积分不足：可用 {available} 分。",
    ),
    "invalid_points": (422, "Points must be a whole number, 0 or more.", "积分须为非负整数。"),
    "invalid_discount": (
        422,
        "A discount is 0 to {max} basis points.",
        "折扣须在 0 到 {max} 个基点之间。",
    ),
    "level_exists": (409, "A level with this threshold exists.", "已有相同门槛的会员等级。"),
    # timed calls
    "invalid_call_rules": (
        422,
        "The call rules are not valid ({detail}).",
        "通话计费规则无效（{detail}）。",
    ),
    "invalid_call_length": (
        422,
        "A call lasts {step} to {max} minutes, in steps of {step}.",
        "通话时长须为 {step} 到 {max} 分钟，以 {step} 分钟为单位。",
    ),
    "call_over": (409, "This call is over.", "本次通话已结束。"),
    "call_not_open": (
        409,
        "The call room opens {minutes} minutes before the start.",
        "通话房间在开始前 {minutes} 分钟开放。",
    ),
    # check-in
    "code_unknown": (404, "No booking has this code.", "核销码不存在。"),
    "already_checked_in": (
        409,
        "This booking was already checked in at {at}.",
        "该预约已于 {at} 核销。",
    ),
    "booking_cancelled": (409, "This booking was cancelled.", "该预约已取消。"),
    "wrong_merchant": (403, "This booking belongs to another merchant.", "该预约不属于本商家。"),
    "invalid_rules": (
        422,
        "{field} is not valid: from {low} to {high}.",
        "{field} 无效：应在 {low} 到 {high} 之间。",
    ),
    "price_out_of_bounds": (
        422,
        "Your merchant takes prices from {low} to {high} fen.",
        "商家规定的价格范围为 {low} 到 {high} 分。",
    ),
    "hours_out_of_bounds": (
        422,
        "Your merchant allows working hours from {start} to {end}.",
        "商家允许的工作时间为 {start} 到 {end}。",
    ),
    "not_reviewable": (
        409,
        "Only a finished order is reviewed, once, within {days} days of its end.",
        "订单完成后 {days} 天内可以评价，每个订单只能评价一次。",
    ),
    "already_reviewed": (409, "This order has a review already.", "该订单已评价。"),
    "already_replied": (409, "The merchant has replied already.", "商家已回复过。"),
    "already_reported": (409, "You reported this review already.", "您已举报过该评价。"),
    "invalid_score": (422, "Scores are whole stars from 1 to 5.", "评分须为 1 到 5 星。"),
    "content_refused": (
        422,
        "This text cannot be published. Please change it.",
        "内容未通过审核，请修改后再提交。",
    ),
    "content_check_unavailable": (
        503,
        "The text cannot be checked now. Try again in a moment.",
        "暂时无法审核内容，请稍后再试。",
    ),
    "not_caseable": (
        409,
        "A case is opened on a paid order once it is done, before it is settled.",
        "订单完成并已支付、结算之前才能申请售后。",
    ),
    "template_unknown": (
        404,
        "No subscribe message is sent for this kind of notice: {kind}.",
        "该类通知没有订阅消息模板：{kind}。",
    ),
    "chat_unavailable": (
        409,
        "This order has no provider to talk to yet.",
        "该订单还没有服务人员，暂不能聊天。",
    ),
    "chat_closed": (
        409,
        "This conversation is closed: the order ended more than {days} days ago or was cancelled.",
        "该会话已关闭：订单已取消或已结束超过 {days} 天。",
    ),
    "message_empty": (422, "Write something, or send a picture.", "请输入内容或发送图片。"),
    "message_too_long": (422, "A message is at most {max} characters.", "消息最多 {max} 字。"),
    "key_reused": (
        409,
        "This key was used for another message.",
        "该幂等键已用于另一条消息。",
    ),
    "case_open": (409, "This order has an open case already.", "该订单已有进行中的售后。"),
    "case_decided": (409, "This case was decided already.", "该售后已处理。"),
    "too_many_photos": (409, "At most {max} photos.", "最多 {max} 张照片。"),
    "name_required": (
        422,
        "Please give a name (at most 100 characters).",
        "请填写名称（最多 100 字）。",
    ),
    "coupon_value_invalid": (
        422,
        "The amount off must be above zero, and not above the spend it needs.",
        "优惠金额须大于零，且不超过使用门槛。",
    ),
    "coupon_percent_invalid": (422, "A percentage off is 1 to 99.", "折扣比例须为 1 到 99。"),
    "coupon_counts_invalid": (
        422,
        "How many: 1 to {max} in all, 1 to 100 for each customer.",
        "发放数量须为 1 到 {max}，每人限领 1 到 100 张。",
    ),
    "customer_unknown": (404, "No customer has this phone number.", "没有使用该手机号的客户。"),
    "wrong_hall": (403, "Your role is limited to other halls.", "您的权限仅限其他服务厅。"),
    "owner_every_hall": (
        422,
        "An owner's role covers every hall; it cannot be limited to some.",
        "店主的权限覆盖所有服务厅，不能只限部分服务厅。",
    ),
    "not_today": (409, "This booking is for {date}, not today.", "该预约日期为 {date}，不是今天。"),
}
