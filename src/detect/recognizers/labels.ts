/**
 * Label and context words per concept, in English, German, French, Spanish, Italian, Dutch and
 * Portuguese (the languages of the XFUND forms and of most EU bank statements). Each constant is a
 * case-insensitive regex alternation for {@link hasContext}; longer forms come first so a label
 * is taken whole.
 */

const alt = (...words: string[]): string => [...new Set(words)].sort((a, b) => b.length - a.length).join('|');

/** Phone labels. */
export const PHONE_LABELS = alt(
  'phone', 'tel', 'tel\\.', 'telephone', 'mobile', 'mob', 'cell', 'fax', 'call', 'contact', 'ph', 'phone number', 'hotline',
  // de
  'telefon', 'telefonnummer', 'rufnummer', 'handy', 'mobil', 'mobilnummer', 'mobiltelefon', 'telefax',
  // fr
  'téléphone', 'telephone', 'tél', 'tél\\.', 'portable', 'mobile', 'numéro de téléphone', 'télécopie',
  // es
  'teléfono', 'telefono', 'tfno', 'tfno\\.', 'móvil', 'movil', 'celular', 'número de teléfono',
  // it
  'cellulare', 'cell\\.', 'numero di telefono', 'recapito telefonico',
  // nl
  'telefoon', 'telefoonnummer', 'mobiel', 'mobiele telefoon',
  // pt
  'telefone', 'telemóvel', 'telemovel', 'número de telefone',
);

/** Account-number labels. */
export const ACCOUNT_LABELS = alt(
  'account(?: number| no\\.?| #)?', 'acct\\.?(?: no\\.?)?', 'a\\/c(?: no\\.?)?', 'acc\\.? no\\.?', 'account id', 'customer number', 'member number',
  'konto(?:nummer|-nr\\.?| nr\\.?)?', 'kto\\.?(?:-nr\\.?| nr\\.?)?',
  'n° de compte', 'no de compte', 'numéro de compte', 'compte', 'compte n°',
  'número de cuenta', 'numero de cuenta', 'n\\.º de cuenta', 'cuenta', 'cuenta n\\.?º?',
  'numero di conto', 'numero conto', 'conto(?: corrente)?', 'c\\/c',
  'rekeningnummer', 'rekening(?:nr\\.?)?', 'rekening nummer',
  'número de conta', 'numero de conta', 'conta(?: n\\.?º)?', 'nib',
);

/** Person labels (the value is a name); each also in upper and lower case by the person recognizer. */
export const PERSON_LABELS = [
  'Name', 'Full name', 'Full Name', 'Account holder', 'Account Holder', 'Account name', 'Account Name', 'Account owner',
  'Customer', 'Customer name', 'Customer Name', 'Client', 'Client name', 'Beneficiary', 'Beneficiary name', 'Payee', 'Payer',
  'Cardholder', 'Card holder', 'Card Holder', 'Recipient', 'Sender', 'Remitter', 'Authorised by', 'Authorized by',
  'Signed by', 'Prepared for', 'Prepared by', 'Attn', 'Attention', 'Holder', 'Insured', 'Patient', 'Employee',
  'Policyholder', 'Applicant', 'Borrower', 'Co-borrower', 'Guarantor', 'Tenant', 'Landlord', 'Owner', 'Contact',
  'First name', 'First Name', 'Last name', 'Last Name', 'Surname', 'Given name', 'Given names', 'Author', 'Maintainer',
  // de
  'Vorname', 'Nachname', 'Familienname', 'Geburtsname', 'Kontoinhaber', 'Kontoinhaberin', 'Inhaber', 'Inhaberin',
  'Empfänger', 'Empfängerin', 'Zahlungsempfänger', 'Auftraggeber', 'Auftraggeberin', 'Begünstigter', 'Begünstigte',
  'Kunde', 'Kundin', 'Versicherungsnehmer', 'Antragsteller', 'Mieter', 'Vermieter', 'Ansprechpartner', 'Unterschrift',
  // fr
  'Nom', 'Prénom', 'Prénoms', 'Nom de famille', 'Nom et prénom', 'Titulaire', 'Titulaire du compte', 'Bénéficiaire',
  'Destinataire', 'Expéditeur', 'Donneur d\'ordre', 'Client', 'Souscripteur', 'Assuré', 'Locataire', 'Signataire',
  // es
  'Nombre', 'Nombre y apellidos', 'Apellido', 'Apellidos', 'Titular', 'Titular de la cuenta', 'Beneficiario', 'Ordenante',
  'Destinatario', 'Remitente', 'Cliente', 'Tomador', 'Asegurado', 'Firmado por', 'Arrendatario',
  // it
  'Nome', 'Cognome', 'Nome e cognome', 'Intestatario', 'Intestatario del conto', 'Intestato a', 'Beneficiario',
  'Ordinante', 'Mittente', 'Contraente', 'Assicurato', 'Firmatario',
  // nl
  'Naam', 'Voornaam', 'Voornamen', 'Achternaam', 'Rekeninghouder', 'Begunstigde', 'Ontvanger', 'Opdrachtgever',
  'Klant', 'Verzekerde', 'Huurder', 'Ondertekend door', 'Tenaamstelling', 'Ten name van', 't\\.n\\.v\\.',
  // pt
  'Nome completo', 'Apelido', 'Apelidos', 'Sobrenome', 'Titular da conta', 'Beneficiário', 'Ordenante', 'Remetente',
  'Segurado', 'Tomador do seguro', 'Assinado por',
];

/**
 * Titles and honorifics before a name (regex alternatives; an optional dot follows). Short forms
 * that are also ordinary words or letters ("M.", "Fr.", "Sr.") are in the person recognizer's
 * dotted list instead.
 */
export const TITLES = alt(
  'Mr', 'Mrs', 'Ms', 'Miss', 'Mx', 'Dr', 'Prof', 'Sir', 'Dame', 'Rev', 'Lady', 'Lord', 'MR', 'MRS', 'MS', 'MISS', 'DR', 'PROF',
  // de
  'Herr', 'Herrn', 'Frau', 'HERR', 'HERRN', 'FRAU', 'Dipl\\.-Ing', 'Dipl\\.-Kfm',
  // fr
  'Mme', 'Mmes', 'Mlle', 'Monsieur', 'Madame', 'Mademoiselle', 'MONSIEUR', 'MADAME',
  // es
  'Don', 'Doña', 'Dña', 'Dª', 'Señor', 'Señora', 'SRA',
  // it
  'Sig', 'Sig\\.ra', 'Sigra', 'Signor', 'Signora', 'Dott', 'Dott\\.ssa', 'Avv', 'Ing', 'SIG', 'SIG\\.RA',
  // nl
  'Dhr', 'Mevr', 'Mw', 'De heer', 'Mevrouw', 'DHR', 'MEVR', 'heer', 'mevrouw', 'meneer', 'Meneer',
  // pt
  'Exmo', 'Exma', 'Exmo\\. Sr', 'Exma\\. Sra', 'Senhor', 'Senhora',
);

/** Letter greetings before a name ("Dear", "Sehr geehrte", "Cher"...). */
export const GREETINGS = alt(
  'Dear', 'DEAR', 'Hello', 'Hi',
  'Sehr geehrte', 'Sehr geehrter', 'Liebe', 'Lieber', 'Hallo', 'Guten Tag',
  'Cher', 'Chère', 'Bonjour',
  'Estimado', 'Estimada', 'Querido', 'Querida', 'Hola',
  'Gentile', 'Egregio', 'Caro', 'Cara', 'Gentilissimo', 'Gentilissima',
  'Geachte', 'Beste', 'Hallo',
  'Prezado', 'Prezada', 'Caro', 'Cara', 'Olá',
);

/** Labels of card and document validity dates (a two-digit-year "05/21" needs one). */
export const EXPIRY_LABELS = alt(
  'exp', 'exp\\.', 'expiry', 'expiry date', 'expires', 'expiration', 'expiration date', 'valid until', 'valid thru', 'valid through',
  'valid to', 'valid from', 'good thru', 'member since', 'issued', 'issue date', 'date of issue', 'ausgestellt', 'gültig ab',
  'gültig bis', 'gültig ab', 'ablaufdatum', 'verfall', 'verfallsdatum', 'läuft ab',
  'expire fin', 'expire le', 'date d\'expiration', 'valable jusqu\'au', 'valable jusqu\'à', 'fin de validité', 'valide jusqu\'au',
  'caduca', 'caducidad', 'fecha de caducidad', 'válido hasta', 'valido hasta', 'vencimiento', 'fecha de vencimiento',
  'scadenza', 'data di scadenza', 'valido fino a', 'valida fino al',
  'vervaldatum', 'geldig tot', 'geldig t/m', 'verloopt',
  'validade', 'data de validade', 'válido até', 'valido ate', 'expira em',
);

/** Address labels (the value follows on the line or the next one). */
export const ADDRESS_LABELS = alt(
  'Address', 'ADDRESS', 'Addr\\.', 'Street', 'STREET', 'City', 'CITY', 'Town', 'Postcode', 'Post code', 'ZIP', 'Zip code', 'ZIP code',
  'Residence', 'Home address', 'Billing address', 'Mailing address',
  'Adresse', 'Anschrift', 'Wohnanschrift', 'Straße', 'Strasse', 'PLZ', 'PLZ/Ort', 'Ort', 'Wohnort', 'Hausanschrift',
  'Domicile', 'Rue', 'Code postal', 'CP', 'Ville', 'Localité',
  'Dirección', 'Direccion', 'Domicilio', 'Calle', 'Código postal', 'Codigo postal', 'C\\.P\\.', 'Ciudad', 'Localidad', 'Población',
  'Indirizzo', 'Residenza', 'Via', 'CAP', 'Città', 'Comune', 'Località',
  'Adres', 'Straat', 'Woonplaats', 'Plaats', 'Postadres',
  'Morada', 'Endereço', 'Endereco', 'Rua', 'Localidade', 'Código-postal',
);

/** Reference-identifier labels (customer, invoice, policy, contract numbers). */
export const ID_LABELS = alt(
  'customer id', 'customer no\\.?', 'customer number', 'client id', 'client no\\.?', 'member id', 'member no\\.?', 'membership no\\.?',
  'policy no\\.?', 'policy number', 'contract no\\.?', 'contract number', 'invoice no\\.?', 'invoice number', 'invoice #',
  'order no\\.?', 'order number', 'reference', 'ref\\.?', 'ref no\\.?', 'case no\\.?', 'claim no\\.?', 'patient id', 'employee id',
  'tax id', 'vat no\\.?', 'passport no\\.?', 'passport number', 'licence no\\.?', 'license no\\.?', 'id',
  'kundennummer', 'kunden-nr\\.?', 'kundennr\\.?', 'rechnungsnummer', 'rechnungs-nr\\.?', 'rechnung nr\\.?', 'vertragsnummer',
  'vertrags-nr\\.?', 'versicherungsnummer', 'policennummer', 'mitgliedsnummer', 'referenz', 'aktenzeichen',
  'auftragsnummer', 'bestellnummer', 'personalnummer', 'ausweisnummer', 'reisepassnummer', 'vorgangsnummer',
  'numéro client', 'n° client', 'no client', 'référence', 'réf\\.?', 'facture n°', 'n° de facture', 'numéro de facture',
  'n° de contrat', 'numéro de contrat', 'numéro d\'adhérent', 'n° de dossier', 'numéro de police', 'passeport n°',
  'número de cliente', 'n\\.º de cliente', 'nº cliente', 'referencia', 'factura n\\.?º?', 'número de factura', 'número de contrato',
  'número de póliza', 'nº de pedido', 'expediente', 'pasaporte',
  'codice cliente', 'numero cliente', 'riferimento', 'rif\\.?', 'fattura n\\.?', 'numero fattura', 'numero di contratto',
  'numero polizza', 'numero pratica', 'passaporto',
  'klantnummer', 'klantnr\\.?', 'factuurnummer', 'factuurnr\\.?', 'referentie', 'kenmerk', 'polisnummer', 'contractnummer',
  'dossiernummer', 'paspoortnummer', 'lidnummer',
  'número de cliente', 'referência', 'fatura n\\.?º?', 'número da fatura', 'número de contrato', 'apólice', 'processo n\\.?º?',
);

/** Payment card labels: a number after one is a card number even when a misread digit breaks its check. */
export const CARD_LABELS = alt(
  'card', 'card number', 'card no\\.?', 'credit card', 'debit card', 'card ending', 'pan',
  'karte', 'kartennummer', 'kreditkarte', 'kartennr\\.?',
  'carte', 'numéro de carte', 'carte bancaire', 'carte n°',
  'tarjeta', 'número de tarjeta', 'numero de tarjeta',
  'carta', 'numero carta', 'carta di credito',
  'kaart', 'kaartnummer', 'creditcard', 'pas', 'pasnummer',
  'cartão', 'cartao', 'número do cartão',
);

/** IBAN labels: a value after one of the right length is an IBAN even when a misread character breaks its check. */
export const IBAN_LABELS = alt('iban', 'iban no\\.?', 'iban-nr\\.?', 'iban code', 'code iban', 'iban-code');
