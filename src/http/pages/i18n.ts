import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { findLicenceType, type LicenceType } from '../../core/licence/licence-types'
import { HOLDER_ID_NUMBER_FIELD } from '../../core/verification/disclosure'

export type Lang = 'zh' | 'en'

/**
 * The page language: `?lang=` when given (remembered in a cookie), else the cookie, else
 * Chinese. Chinese is the default because the people at a bureau window or a bank counter read
 * it first; English is one link away.
 */
export function pageLang(c: Context): Lang {
  const asked = c.req.query('lang')
  if (asked === 'zh' || asked === 'en') {
    setCookie(c, 'tb_lang', asked, { path: '/', sameSite: 'Lax', httpOnly: true, maxAge: 365 * 86400 })
    return asked
  }
  return getCookie(c, 'tb_lang') === 'en' ? 'en' : 'zh'
}

const MESSAGES = {
  zh: {
    siteName: '通办 · 电子证照',
    switchTo: 'English',
    skip: '跳到正文',
    verifyTitle: '电子证照核验',
    verifyIntro: '粘贴电子证照凭证或二维码内容，或上传盖章的PDF文件，查看核验结果。',
    verifyText: '凭证或二维码内容',
    verifyPdf: '或上传PDF文件',
    verifySubmit: '核验',
    verdictPassed: '有效',
    verdictFailed: '无效',
    verdictIndeterminate: '无法确定',
    verdictPassedText: '这份证照由可信的签发机关签发，签名完好，目前有效。',
    verdictFailedText: '这份证照未通过核验，请不要依赖它。',
    verdictIndeterminateText: '暂时无法确定这份证照是否有效，请稍后再试或联系签发机关。',
    licence: '证照',
    licenceNumber: '证照编号',
    licenceType: '证照类型',
    holder: '持证主体',
    holderCode: '统一社会信用代码 / 身份号码',
    validity: '有效期',
    status: '状态',
    issuer: '签发机关',
    signer: '签名证书',
    checks: '核验项目',
    checkPassed: '通过',
    checkFailed: '未通过',
    checkSkipped: '未检查',
    signatures: '文件中的签名',
    seal: '印章',
    bureauSealName: '行政审批专用章',
    noReport: '请粘贴凭证或上传PDF。',
    holderTitle: '我的证照',
    holderSignIn: '登录',
    holderSignInIntro: '请输入审批局发给您的持证人凭证（以 tbh_ 开头）。',
    holderCredential: '持证人凭证',
    signOut: '退出',
    myLicences: '我的证照',
    downloadPdf: '下载PDF',
    downloadCredential: '下载电子凭证',
    newConsent: '授权银行查验',
    bank: '银行网点',
    purpose: '用途',
    fieldsToShow: '允许查看的内容',
    fieldsNote: '名称和统一社会信用代码总会显示。',
    expiresIn: '有效时长',
    minutes: '分钟',
    hours: '小时',
    days: '天',
    uses: '可使用次数',
    statusUpdates: '证照被暂停、注销或变更时通知该银行',
    createConsent: '生成授权码',
    consentCreated: '授权码已生成',
    consentCodeNote: '请将授权码读给柜员，或出示二维码。授权码只显示这一次。',
    consentCode: '授权码',
    myConsents: '我的授权',
    consentFormIncomplete: '表单没有填完整或有误：请至少选择一个证照，并检查各项内容。',
    withdraw: '撤回',
    consentStates: { active: '有效', withdrawn: '已撤回', used_up: '已用完', expired: '已过期' },
    expiresAt: '到期时间',
    usesLog: '用证记录',
    usesEmpty: '还没有人查验过您的证照。',
    usedBy: '查验方',
    usedAt: '时间',
    result: '结果',
    noLicences: '您名下没有证照。',
    noConsents: '您还没有授权。',
    bankTitle: '柜员核验',
    bankSignIn: '网点登录',
    bankSignInIntro: '请输入审批局发给本网点的凭证（以 tbb_ 开头）。',
    bankCredential: '网点凭证',
    bankCode: '客户授权码',
    bankCodeHint: '手动输入或用扫码枪扫描客户手机上的二维码。',
    enterCode: '请输入客户的授权码。',
    check: '核验',
    checkResult: '核验结果',
    consentFor: '授权信息',
    disclosedFields: '客户授权查看的内容',
    partner: '合作地区',
    noneDisclosed: '（客户未授权查看其他内容）',
    problem: '无法完成',
  },
  en: {
    siteName: 'tongban · electronic licences',
    switchTo: '中文',
    skip: 'Skip to content',
    verifyTitle: 'Verify a licence',
    verifyIntro: 'Paste a licence credential or QR code text, or upload a signed PDF, to see whether it can be trusted.',
    verifyText: 'Credential or QR code text',
    verifyPdf: 'or upload a PDF',
    verifySubmit: 'Verify',
    verdictPassed: 'Valid',
    verdictFailed: 'Not valid',
    verdictIndeterminate: 'Cannot tell',
    verdictPassedText: 'This licence was issued by a trusted authority, its signature is intact, and it is valid now.',
    verdictFailedText: 'This licence failed verification. Do not rely on it.',
    verdictIndeterminateText: 'Whether this licence is valid cannot be told right now. Try again later or ask the issuer.',
    licence: 'Licence',
    licenceNumber: 'Licence number',
    licenceType: 'Type',
    holder: 'Holder',
    holderCode: 'Credit code / ID number',
    validity: 'Valid',
    status: 'Status',
    issuer: 'Issued by',
    signer: 'Signing certificate',
    checks: 'Checks made',
    checkPassed: 'passed',
    checkFailed: 'failed',
    checkSkipped: 'not checked',
    signatures: 'Signatures in the file',
    seal: 'Seal',
    bureauSealName: ' approval seal (行政审批专用章)',
    noReport: 'Paste a credential or upload a PDF.',
    holderTitle: 'My licences',
    holderSignIn: 'Sign in',
    holderSignInIntro: 'Enter the holder credential the bureau gave you (it starts with tbh_).',
    holderCredential: 'Holder credential',
    signOut: 'Sign out',
    myLicences: 'My licences',
    downloadPdf: 'Download PDF',
    downloadCredential: 'Download credential',
    newConsent: 'Let a bank check a licence',
    bank: 'Bank branch',
    purpose: 'Purpose',
    fieldsToShow: 'What the bank may see',
    fieldsNote: 'Your name and credit code are always shown.',
    expiresIn: 'Valid for',
    minutes: 'minutes',
    hours: 'hours',
    days: 'days',
    uses: 'Number of checks',
    statusUpdates: 'Tell the bank if the licence is later suspended, revoked or changed',
    createConsent: 'Create consent code',
    consentCreated: 'Consent code created',
    consentCodeNote: 'Read the code to the teller or show the QR code. The code is shown only this once.',
    consentCode: 'Consent code',
    myConsents: 'My consents',
    consentFormIncomplete: 'The form is incomplete or not valid: choose at least one licence and check each entry.',
    withdraw: 'Withdraw',
    consentStates: { active: 'active', withdrawn: 'withdrawn', used_up: 'used up', expired: 'expired' },
    expiresAt: 'Expires',
    usesLog: 'Who checked my licences',
    usesEmpty: 'Nobody has checked your licences yet.',
    usedBy: 'Checked by',
    usedAt: 'When',
    result: 'Result',
    noLicences: 'You hold no licences.',
    noConsents: 'You have given no consents.',
    bankTitle: 'Teller check',
    bankSignIn: 'Branch sign-in',
    bankSignInIntro: 'Enter the credential the bureau gave this branch (it starts with tbb_).',
    bankCredential: 'Branch credential',
    bankCode: 'Customer’s consent code',
    bankCodeHint: 'Type it, or scan the QR code on the customer’s phone.',
    enterCode: 'Enter the customer’s consent code.',
    check: 'Check',
    checkResult: 'Result',
    consentFor: 'Consent',
    disclosedFields: 'What the customer let you see',
    partner: 'Partner region',
    noneDisclosed: '(nothing else was disclosed)',
    problem: 'Could not be done',
  },
} as const

export type Messages = (typeof MESSAGES)['zh'] | (typeof MESSAGES)['en']

export const messages = (lang: Lang): Messages => MESSAGES[lang]

/** Problem codes people meet on the pages, said in their language; anything else shows the service's own detail. */
const PROBLEMS: Record<string, { zh: string; en: string }> = {
  consent_not_found: { zh: '没有找到给本网点的这个授权码。请与客户核对授权码。', en: 'No consent with this code was given to this branch. Check the code with the customer.' },
  consent_expired: { zh: '这个授权已过期，请客户重新授权。', en: 'This consent has expired; the customer can give a new one.' },
  consent_withdrawn: { zh: '客户已撤回这个授权。', en: 'The customer withdrew this consent.' },
  consent_used_up: { zh: '这个授权的使用次数已用完。', en: 'This consent has been used as often as the customer allowed.' },
  too_many_attempts: { zh: '错误次数过多，请稍后再试。', en: 'Too many wrong codes; try again later.' },
  unauthorized: { zh: '凭证无效或已被吊销。', en: 'The credential is not valid or was revoked.' },
  outside_relying_party_scope: { zh: '该银行无权查看所选内容。', en: 'This bank may not be shown what you chose.' },
  invalid_consent_request: { zh: '授权内容有误。', en: 'The consent is not valid.' },
  unknown_field: { zh: '所选证照没有该项内容。', en: 'The chosen licences have no such field.' },
  licence_not_usable: { zh: '该证照已注销或已被新版本取代。', en: 'The licence is revoked or superseded.' },
  not_a_pdf: { zh: '上传的文件不是PDF。', en: 'The file is not a PDF.' },
  forbidden: { zh: '请求来源不被接受，请刷新页面后重试。', en: 'The request came from elsewhere; reload the page and try again.' },
}

export function problemText(lang: Lang, code: string, detail: string): string {
  return PROBLEMS[code]?.[lang] ?? detail
}

/** Chinese questions for the checks of a credential or a PDF; the English ones come from the report itself. */
const CHECK_QUESTIONS_ZH: Record<string, string> = {
  'compact-jws': '凭证格式是否正确？',
  'algorithm-allowed': '签名算法是否被允许？',
  'no-embedded-keys': '凭证是否没有自带密钥（信任只来自信任列表）？',
  'no-critical-extensions': '是否没有无法识别的关键扩展？',
  'media-type': '凭证类型是否与声称的一致？',
  'signer-known': '签名者是否是可信信任列表中的文档签名者？',
  'signer-algorithm': '签名者的密钥是否与算法一致？',
  signature: '签名是否完好？',
  'certificate-chain': '签名证书能否链接到地区根证书？',
  'certificates-valid-at-signing': '签名时证书是否在有效期内？',
  'licence-credential': '内容是否为电子证照？',
  'issuer-is-signer-region': '签发地区是否为签名者所在地区？',
  'licence-number': '证照编号是否符合 GB/T 36904？',
  'status-known': '能否查到证照的注销和暂停状态？',
  'not-revoked': '证照是否未被注销？',
  'not-suspended': '证照是否未被暂停？',
  'valid-from': '证照是否已经生效？',
  'valid-until': '证照是否仍在有效期内？',
  'digest-matches': '签名的摘要是否与文件内容一致？',
  'sub-filter-pades': '是否为 PAdES 签名？',
  'cms-well-formed': '签名数据格式是否正确？',
  'cms-signature-valid': '文件签名是否完好？',
  'byte-range-covers-revision': '签名是否覆盖了完整的文件版本？',
  'no-unallowed-changes-after-signature': '签名后是否没有不被允许的修改？',
  'seal-not-revoked': '印章（或签名证书）是否未被吊销？',
  'pdf-well-formed': '能否读取PDF的各个版本和交叉引用表？',
  'pdf-signed': 'PDF中是否有签名？',
  'embedded-licence': '文件携带的证照（二维码内容）是否有效？',
  'byte-range-well-formed': '签名的字节范围（/ByteRange）是否为只留一处空隙的格式？',
  'contents-is-own-gap': '签名未覆盖的空隙是否正好是该签名自己的 /Contents？',
  'digest-algorithm-strong': '摘要算法是否为 SHA-256 或更强？',
  'signing-certificate-matches': '签名属性中指明的签名证书是否就是实际签名的证书？',
  'no-signing-time-attribute': '签名时间是否只写在 /M 中（PAdES 的要求）？',
}

export function checkQuestion(lang: Lang, name: string, question: string): string {
  return lang === 'zh' ? (CHECK_QUESTIONS_ZH[name] ?? question) : question
}

const BEIJING = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })

/** A time as people at the counter read it: Beijing time (UTC+8), to the minute. */
export function beijingTime(at: Date | string): string {
  return `${BEIJING.format(typeof at === 'string' ? new Date(at) : at)} (UTC+8)`
}

/** A licence type's name in the page's language (the contracts give both), or `fallback` for a type not in the catalogue. */
export function licenceTypeName(lang: Lang, keyOrCode: string, fallback = keyOrCode): string {
  const type = findLicenceType(keyOrCode)
  return type ? (lang === 'en' ? type.nameEn : type.name) : fallback
}

/** A licence field's label in the page's language: the certificate's Chinese label, or its English from the contract. */
export function fieldLabel(lang: Lang, type: LicenceType | undefined, name: string): string {
  if (name === HOLDER_ID_NUMBER_FIELD) return lang === 'en' ? 'ID number' : '身份号码'
  return (lang === 'en' ? type?.fieldLabelsEn[name] : type?.fieldLabels[name]) ?? name
}
