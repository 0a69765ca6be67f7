"""The demo knowledge base: a fact sheet per demo hotel (from the hotel data), the booking
policies, FAQ, and the standard phrases of seeds 000 and 003 (服务用语)."""

from __future__ import annotations

from sqlalchemy import select

from hotline.core.context import Context
from hotline.hotels.models import Hotel, RatePlan, RoomType
from hotline.hotels.pricing import policy_text
from hotline.knowledge import service
from hotline.knowledge.models import Article
from hotline.knowledge.schemas import ArticleIn

ARTICLES = (
    ("policy", "房间保留时间（保留到XX点）", ["保留", "预订"],
     "非担保预订的房间保留到入住当天的酒店规定时间（一般为18:00，可在预订时按客人预计到店时间延后）。"
     "担保预订（预付优惠）整晚保留。超过保留时间仍未到店的客人，呼叫中心每15分钟查询一次并致电确认：延迟到达则修改预计到店时间并延长保留；"
     "客人取消则按取消政策处理；联系不上则发短信请客人回电。"),
    ("policy", "取消政策与退款", ["取消", "退款", "政策"],
     "门市价、会员价、会员含早：入住前24小时以上取消全额退还已付款项，此后取消不退。"
     "预付优惠（担保）：入住前72小时以上取消退还100%，24–72小时退还50%，此后不退。"
     "取消前系统会先显示取消费和退款金额，向客人确认后再取消；退款原路返回（现金、银行卡、转账或在线支付）。"),
    ("policy", "会员等级与折扣", ["会员", "积分", "等级"],
     "会员价按订房人等级折扣：银卡95折、金卡9折、白金卡85折。离店后按房费累积积分（金卡1.5倍）。"
     "近12个月积分达到门槛自动升级。积分两年未使用过期。"),
    ("policy", "团队预订规则", ["团队", "团单"],
     "团队预订按房型整块保留房间，可先订后报名单；释放日（一般为入住前7天）之后仍未填写入住人姓名的房间自动放回可售。"
     "团队定金在预订时登记。团队联系人与电话必填。"),
    ("policy", "停机时的纸质预订补录", ["纸质", "补录", "停电"],
     "系统不可用时在纸质预订单上记录客人信息和接单时间。恢复后在「酒店预订」中打开「补录纸质预订」，填写纸质单上的时间。"
     "如房间已被其他预订占用，系统记为冲突而不会超订，并生成回电任务：请联系客人改订、等待空房或免费取消。"),
    ("faq", "发票怎么开？", ["发票"],
     "客人离店时可在前台开具增值税普通发票或专用发票，抬头和税号请在预订备注中写明。电话预订的客人也可在离店后30天内致电前台补开。"),
    ("faq", "可以带宠物吗？", ["宠物"],
     "英冠酒店除三亚海棠湾店外均不接待宠物；导盲犬除外。三亚海棠湾店提供宠物友好房，需提前预订并支付清洁费200元/晚。"),
    ("faq", "可以加床吗？", ["加床", "儿童"],
     "高级大床房和行政套房可加床，每晚150元（含早餐另加68元）；双床房不可加床。1.2米以下儿童不占床免费。"),
    ("faq", "早餐时间和价格", ["早餐"],
     "早餐时间为06:30–10:00（周末至10:30）。含早房价已包含每间房一份早餐；单点早餐68元/位。"),
    ("faq", "停车", ["停车"],
     "各店均有地下停车场，住店客人免费停车（外滩店每晚限一车位，需提前预约）。机场店提供免费接送机班车，每30分钟一班。"),
    ("phrase", "开场白与人工服务提示", ["开场白", "服务用语"],
     "接通电话：“您好，英冠酒店（工号）为您服务！”\n客户不出声：“您好，请问有什么可以帮您？”\n"
     "仍不出声：“对不起，听不到您的声音，请稍后再拨！”\n人工服务前的提示：“您好，为了提高对您的服务质量，本次通话可能会被监听或录音，下面由XX号服务员为您服务。”"),
    ("phrase", "预订过程中的问句（种子000）", ["预订", "服务用语"],
     "“X先生（小姐），请问您要预订哪里的客房呢？”\n“请问是您本人入住还是帮朋友预订？”\n"
     "“请问您（或您的朋友）预计什么时间到达酒店呢？”\n“由于房源比较紧张，我们会把您预订的房间保留到XX点，如果有情况变动，麻烦您及时通知我们。”\n"
     "“X先生（小姐），除了您现在使用的电话外，能不能留一个其它的电话号码以方便我们及时与您联络？”\n"
     "新号码：“您这次使用的电话从未在我们系统里登记过，请问您这个号码需要在我们系统里登记吗？这样您下次用这个号码打过来，我们可以知道是您了。”"),
    ("phrase", "等待、复述与结束语", ["服务用语", "结束语"],
     "用户等待超过10秒：“对不起，请稍等！”\n恢复通话：“对不起，让您久等了！”\n听不清：“对不起，请您讲慢一点好吗？”“您的问题我复述一遍好吗？”\n"
     "解答完毕：“请问您还有什么问题吗？”\n结束：“您的预订已经受理，我们会尽快通知您的，谢谢来电，再见。”\n客户致谢：“不用谢，欢迎您再次来电！”"),
    ("route", "海南双飞五日游（三亚）", ["三亚", "海南", "线路"],
     "行程：D1 抵达三亚，入住英冠酒店三亚海棠湾店；D2 蜈支洲岛；D3 南山文化旅游区、天涯海角；D4 亚龙湾自由活动；D5 返程。"  # noqa: E501
     "含往返机票、4晚酒店、早餐和景区门票；不含午晚餐。成人4,980元起，儿童（不占床）2,980元，单房差1,200元。"),
    ("price", "各店门市价参考", ["价格", "门市价"],
     "高级大床房和高级双床房门市价：上海外滩店920元、北京国贸店960元、三亚海棠湾店1,280元、成都高新店480元；周五、周六上浮15%。"
     "行政套房为门市价的2.2倍。会员价按等级折扣，预付优惠为门市价的88%。以系统实时价格为准。"),
)  # fmt: skip


async def load(ctx: Context) -> int:
    """Load the demo articles once; returns how many."""
    async with ctx.read() as session:
        if await session.scalar(select(Article.id).limit(1)) is not None:
            return 0
        hotels = (await session.scalars(select(Hotel).order_by(Hotel.city, Hotel.code))).all()
        types = (await session.scalars(select(RoomType))).all()
        plans = (await session.scalars(select(RatePlan))).all()
    made = 0
    for category, title, tags, body in ARTICLES:
        await service.save(ctx, ArticleIn(title=title, category=category, tags=tags, body=body))
        made += 1
    for hotel in hotels:
        rooms = "；".join(f"{t.name}（{t.bed}，可住{t.capacity}人）" for t in types if t.hotel_id == hotel.id)
        rack = next((p for p in plans if p.hotel_id == hotel.id and p.code == "RACK"), None)
        body = (
            f"地址：{hotel.address}。电话：{hotel.phone}。入住时间{hotel.check_in}以后，退房时间{hotel.check_out}以前。"
            f"非担保预订房间保留至{hotel.hold_until}。房型：{rooms}。"
            + (f"门市价取消政策：{policy_text(rack.policy)}。" if rack else "")
        )
        await service.save(ctx, ArticleIn(title=f"{hotel.name} · 酒店信息", category="hotel",
                                          tags=[hotel.city, hotel.code], body=body))  # fmt: skip
        made += 1
    return made
