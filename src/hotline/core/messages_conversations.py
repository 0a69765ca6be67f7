"""Chinese for the error reasons of customers' conversations (SMS replies through Kannel, WeChat
messages, agents' answers); merged into `messages.REASONS_ZH`, which
tests/api/test_error_language.py checks against every raise."""

from __future__ import annotations

CONVERSATIONS_ZH: dict[str, str] = {
    "chat-token-refused": "没有与此令牌对应的在线会话",
    "chat-ended": "本次在线咨询已结束",
    "chat-file-empty": "文件是空的",
    "chat-file-too-large": "文件不能超过 {most_mb} MB",
    "chat-file-type": "只能发送 JPEG、PNG、GIF、WebP 图片或 PDF 文件（按文件内容判断，与文件名无关）",
    "chat-image-too-many-pixels": "图片尺寸过大：不能超过 {most_mp} 百万像素",
    "chat-files-too-many": "本次会话最多发送 {most} 个文件",
    "chat-files-too-large-together": "本次会话的文件合计不能超过 {most_mb} MB",
    "chat-files-web-only": "只有在线客服会话可以发送图片和文件，短信和微信不能",
    "no-chat-file": "本会话中没有文件 {file_id}",
    "no-conversation": "没有会话 {conversation_id}",
    "conversation-closed": "会话已关闭",
    "sms-reply-token-refused": "令牌与短信网关设置中的不符",
    "sms-sender-not-number": "发送方不是电话号码",
    "sms-charset-unknown": "未知的字符集 {charset}",
    "sms-text-undecodable": "短信内容不是 {charset} 编码",
    "sms-text-too-long": "短信最多 {most} 个字",
    "mo-token-format": "回复令牌须为 16 至 64 位字母、数字、- 或 _",
    "wechat-no-subject-html": "微信消息没有主题和 HTML",
    "wechat-app-id-format": "AppID 须为 wx 加 16 位十六进制数字",
    "wechat-token-format": "Token 须为 3 至 32 位字母或数字",
    "wechat-aes-key-format": "EncodingAESKey 须为 43 位字母、数字、+ 或 /",
    "wechat-app-secret-needed": "请填写公众号的 AppSecret",
    "wechat-not-connected": "微信公众号尚未接入（消息网关设置）",
    "wechat-signature-refused": "签名与公众号的 Token 不符，或时间戳不在 5 分钟内",
    "wechat-message-unreadable": "无法读取这条微信消息（格式、加密或公众号不符）",
    "wechat-sender-not-openid": "发送方不是有效的微信 OpenID",
    "no-open-conversation": "没有进行中的会话 {conversation_id}",
    "not-your-conversation": "只有接待此会话的坐席或主管可以转接",
    "agent-has-it-already": "该坐席已在接待此会话",
    "agent-has-no-room": "该坐席不在岗（未就绪或已签出），或接待的会话已达上限",
    "queue-takes-no-such-conversations": "队列 {queue} 不接待此类会话",
    "conversation-moved": "会话刚刚有了变化，请刷新后再试",
    "wechat-text-too-long": "微信消息过长：最多 {most} 个字",
}
