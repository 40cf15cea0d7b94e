"""Words printed in reports, in Chinese and English. Item, level and department names come from
the rules' own labels; everything else is here."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

TEXT: dict[str, dict[Lang, str]] = {
    "title": {"zh": "顾客满意度调查统计表", "en": "Customer satisfaction survey statistics"},
    "sheet_summary": {"zh": "汇总", "en": "Summary"},
    "sheet_scores": {"zh": "客户得分", "en": "Scores"},
    "sheet_items": {"zh": "项目分析", "en": "Items"},
    "sheet_pareto": {"zh": "柏拉图", "en": "Pareto"},
    "sheet_flags": {"zh": "问题项", "en": "Flags"},
    "sheet_trend": {"zh": "趋势", "en": "Trend"},
    "sheet_comments": {"zh": "顾客意见", "en": "Comments"},
    "sheet_rejected": {"zh": "未计入的输入", "en": "Rejected inputs"},
    "period": {"zh": "期间", "en": "Period"},
    "made_on": {"zh": "制表日期", "en": "Made on"},
    "rules": {"zh": "评分规则(SHA-256)", "en": "Scoring rules (SHA-256)"},
    "rescored": {"zh": "已按当前规则重新评分", "en": "Rescored with the current rules"},
    "figure": {"zh": "指标", "en": "Figure"},
    "value": {"zh": "数值", "en": "Value"},
    "responses": {"zh": "计入的回复数", "en": "Responses counted"},
    "customers": {"zh": "顾客数", "en": "Customers"},
    "superseded": {"zh": "被更新回复取代", "en": "Superseded by a later reply"},
    "incomplete": {"zh": "未答全(按比例折算)", "en": "Incomplete (rescaled)"},
    "mean_total": {"zh": "平均得分", "en": "Mean total"},
    "median_total": {"zh": "得分中位数", "en": "Median total"},
    "flagged": {"zh": "需纠正措施的顾客", "en": "Customers flagged"},
    "flagged_share": {"zh": "需纠正措施的比例", "en": "Share flagged"},
    "previous": {"zh": "上期", "en": "Previous period"},
    "previous_mean": {"zh": "上期平均得分", "en": "Previous mean total"},
    "change_mean": {"zh": "平均得分变化", "en": "Change in mean total"},
    "rejected_count": {"zh": "未计入的输入", "en": "Inputs rejected"},
    "grade": {"zh": "等级", "en": "Grade"},
    "count": {"zh": "数量", "en": "Count"},
    "share": {"zh": "比例", "en": "Share"},
    "grade_chart": {"zh": "等级分布", "en": "Grade distribution"},
    "customer": {"zh": "客户名称", "en": "Customer"},
    "code": {"zh": "客户编号", "en": "Code"},
    "reply_date": {"zh": "回复日期", "en": "Reply date"},
    "points": {"zh": "得分", "en": "points"},
    "total": {"zh": "总分", "en": "Total"},
    "complete": {"zh": "答全", "en": "Complete"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "flags": {"zh": "问题", "en": "Flags"},
    "source": {"zh": "来源", "en": "Source"},
    "item": {"zh": "调查项目", "en": "Item"},
    "weight": {"zh": "权重", "en": "Weight"},
    "answered": {"zh": "回答数", "en": "Answered"},
    "mean_points": {"zh": "平均得分", "en": "Mean points"},
    "share_of_max": {"zh": "得分率", "en": "Share of maximum"},
    "share_dissatisfied": {"zh": "不满意比例", "en": "Share dissatisfied"},
    "change_share": {"zh": "得分率变化", "en": "Change in share of maximum"},
    "items_chart": {"zh": "各项目评价分布", "en": "Ratings by item"},
    "pareto_chart": {"zh": "不满意项目柏拉图", "en": "Pareto of dissatisfied items"},
    "cumulative": {"zh": "累计比例", "en": "Cumulative share"},
    "flag_type": {"zh": "类型", "en": "Type"},
    "low_score": {"zh": "总分低于", "en": "Total under"},
    "dissatisfied_item": {"zh": "项目不满意", "en": "Item dissatisfied"},
    "rating_or_total": {"zh": "评价/总分", "en": "Rating / total"},
    "department": {"zh": "责任部门", "en": "Department"},
    "trend_chart": {"zh": "平均得分趋势", "en": "Mean total by period"},
    "comment": {"zh": "意见", "en": "Comment"},
    "file": {"zh": "文件", "en": "File"},
    "sheet": {"zh": "工作表", "en": "Sheet"},
    "cell": {"zh": "单元格", "en": "Cell"},
    "reason": {"zh": "原因", "en": "Reason"},
    "none": {"zh": "无", "en": "none"},
}


def t(key: str, lang: Lang) -> str:
    return TEXT[key][lang]
